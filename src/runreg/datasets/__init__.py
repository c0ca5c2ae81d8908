"""Offline datasets: accepted-dataset rules, DQM GUI presence, cycles and the DC expert tools."""
