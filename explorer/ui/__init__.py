"""Streamlit widgets and panels. The only package (with app.py) that imports streamlit."""
