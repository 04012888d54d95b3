"""Fault scenarios with real processes on private ports; `python tests/chaos` prints the fault table."""
