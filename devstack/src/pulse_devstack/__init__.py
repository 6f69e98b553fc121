"""The local stack: everything Pulse needs, on one machine, no AWS."""
