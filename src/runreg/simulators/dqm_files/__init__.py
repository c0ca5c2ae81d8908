"""A generator of DQM GUI ROOT files (uproot writing) for the OMS simulator's runs: the MEs the shipped trend
configs read, with realistic shapes, slow drifts, several versions of some files, a corrupt file and a
missing ME."""
