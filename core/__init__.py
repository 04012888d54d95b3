"""Shared core: settings, database, models and migrations. Imports nothing above it."""
