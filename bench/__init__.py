"""Benchmarks (not tests): `make bench` runs bench/run.py."""
