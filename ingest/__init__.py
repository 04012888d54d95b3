"""Ingest: the HTTP API (auth, uploads, profile, sessions) and storage of raw files."""
