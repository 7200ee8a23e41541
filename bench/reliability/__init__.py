"""Reliability under faults: ``python -m bench.reliability`` (see README.md)."""
