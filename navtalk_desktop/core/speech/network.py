"""Whether online speech can be tried, decided without sending a packet."""

from __future__ import annotations

import os
import socket


def network_available() -> bool:
    """Whether a route to the internet exists, decided without sending a packet.

    Connecting a UDP socket only asks the kernel for a route; NAVTALK_OFFLINE=1 forces offline.
    """
    if os.environ.get("NAVTALK_OFFLINE", "").strip() not in ("", "0"):
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never contacted, only routed
            return not sock.getsockname()[0].startswith("127.")
    except OSError:
        return False
