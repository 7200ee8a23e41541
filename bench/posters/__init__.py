"""Poster PDF build time for 100 desks per size: `python -m bench.posters`."""
