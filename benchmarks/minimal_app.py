"""The baseline for interaction latency: the smallest Streamlit app with the same round trip.

One selectbox in the sidebar (as the explorer's condition picker) and one text output. The
benchmark selects a new option and stops the clock when the new text is painted, so the ratio
explorer / minimal is the cost of the explorer itself on top of Streamlit's own rerun.

    streamlit run benchmarks/minimal_app.py
"""

import streamlit as st

CHOICES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]

with st.sidebar:
    choice = st.selectbox("Choice", CHOICES, key="choice")
st.write(f"Selected: {choice}")
