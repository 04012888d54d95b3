"""Real services for integration tests: redis-server, databases, Celery workers, SMTP, the API."""
