"""Who is asking, and may they: verified identities, named e-group permissions, authorize()."""
