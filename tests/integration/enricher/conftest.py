"""Fixtures for the enricher's integration tests live in enricher_harness (importable by name)."""

from enricher_harness import aws_emulator, pipeline

__all__ = ["aws_emulator", "pipeline"]
