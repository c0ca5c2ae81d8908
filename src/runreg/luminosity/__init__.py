"""Luminosity: per-LS delivered and recorded luminosity per run and source (OMS online, brilcalc)."""
