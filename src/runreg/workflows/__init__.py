"""Stats2 inside runreg: the cache of production workflows and the event-count history of their datasets."""
