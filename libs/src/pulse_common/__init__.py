"""Shared library of the Pulse services."""
