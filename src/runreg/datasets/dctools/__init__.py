"""DC expert tools (rr_backend §5.3): bulk repairs of the offline datasets a filter selects."""
