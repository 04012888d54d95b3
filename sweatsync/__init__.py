"""sweatsync: the command line and the embedded runner, on top of ingest, workers and alerts."""
