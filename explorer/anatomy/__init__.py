"""Parametric anatomy: morphometry tables, mesh builders, the structure registry and baked assets."""
