"""Throughput benchmark of the FIT parser and the physiology models over the real sample files.

Run from the repository root with the project's Python: ``python -m bench`` (see bench/README.md).
"""
