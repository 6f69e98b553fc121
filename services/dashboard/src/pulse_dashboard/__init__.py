"""Pulse dashboard service."""
