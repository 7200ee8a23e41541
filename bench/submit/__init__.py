"""Benchmark of survey submissions: ``python -m bench.submit`` (see README.md)."""
