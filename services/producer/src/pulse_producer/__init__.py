"""Pulse producer service."""
