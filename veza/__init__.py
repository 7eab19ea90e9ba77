"""Veza: the realtime-first backend of a music platform."""

__version__ = "0.1.0"
