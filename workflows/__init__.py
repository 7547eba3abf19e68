"""Runs that ingest a temporary index and ask it: evaluation, the calibration run, training.

They need `ingest` and `retrieval` both, which do not know each other, so they live apart
from both; the `qa` commands (`qa eval`, `qa calibrate`, `qa train`, `qa train-reader`) and
the benchmarks in bench/ start them.
"""
