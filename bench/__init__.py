"""Benchmarks of ppp-tracker: `make bench` (= `python -m bench [name] [options]`)."""
