"""Pulse indexer service."""
