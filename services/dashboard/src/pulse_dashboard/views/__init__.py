"""The dashboard's views: one module each (request bodies and response shapes as pure functions)."""
