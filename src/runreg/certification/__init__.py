"""Certification: golden JSON engine, JSON portal, luminosity, JSON algebra."""
