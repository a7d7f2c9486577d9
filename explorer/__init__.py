"""Lumbar Explorer: an educational 3D explorer of the lumbar spine and its nerves."""

__version__ = "0.1.0"
