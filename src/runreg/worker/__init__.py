"""Background workers: the Celery application that runs golden-JSON jobs from Redis."""
