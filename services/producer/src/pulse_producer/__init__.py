"""Pulse producer: normalizes posts from X, Bluesky, files and a generator into Kinesis records."""
