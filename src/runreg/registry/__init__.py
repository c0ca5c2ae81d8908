"""Runs, datasets, lumisection flags and OMS values: the event-sourced heart of the Run Registry."""
