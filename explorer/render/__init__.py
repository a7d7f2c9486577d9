"""Plotly figure builders. The only package that imports plotly."""
