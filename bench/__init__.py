"""The side-by-side benchmark (``make bench``): see run.py and docs/benchmarks.md."""
