"""Ports for servers the tests start (free now) or for clients that must find nobody listening."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on (picked by the OS, then released): start a server there, or expect refusal."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
