"""Adapters to outside systems: file storage, audio probing, uploads, streaming."""
