"""Clients for the services runreg reads from: a Protocol, an httpx client and the wire format for each."""
