"""Pulse enricher service."""
