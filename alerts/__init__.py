"""Alerts: cramp-risk scoring and recommendations (pure), email rendering, the outbox and its relay.

Imports follow the data: ingest -> workers -> alerts, all on `core`. Nothing here imports workers or ingest.
"""
