"""Adoption: bring an original Run Registry database into runreg with its whole history, and prove it."""
