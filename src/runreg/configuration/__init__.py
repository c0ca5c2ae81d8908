"""Versioned configuration: workspaces, classifiers, accepted datasets, permissions, presets."""
