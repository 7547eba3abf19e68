"""Benchmarks that write BENCHMARKS.md; run them as `python -m bench.<name>`."""
