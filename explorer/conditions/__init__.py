"""Conditions: one module per condition, a registry, and simulate()."""
