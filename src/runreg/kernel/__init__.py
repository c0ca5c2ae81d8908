"""Pure shared vocabulary: errors, actors, lumisection ranges."""
