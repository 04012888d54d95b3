"""Workers: the Celery app, thin tasks, the FIT parsing adapter and physiology (pure)."""
