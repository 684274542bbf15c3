"""Where webhooks may point: public addresses only, unless the operator allows more.

A webhook URL is chosen by a delegation's staff, and the service POSTs to it
from inside its own network. Without a rule, a URL like
http://169.254.169.254/latest/meta-data/ or http://10.0.0.7:5432/ would make
the service probe (and, through the delivery history, report on) hosts that
only it can reach: server-side request forgery. So a webhook's host must
resolve to global unicast addresses only. Forums run on a ministry's own
network, where receivers are private hosts, set SIDELINES_WEBHOOK_ALLOW to
the networks that may be called as well (comma-separated CIDRs, e.g.
"10.20.0.0/16,fd00::/8").

The rule is checked twice: at registration (an IP literal or a localhost
name is refused at once, naming the field), and at every delivery, on the
addresses the name resolves to then. The delivery connects to the address
that was checked, not to a second lookup, so a name that resolves to a
public address for the check and to a private one for the connection
(DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from functools import lru_cache

ALLOW_VARIABLE = "SIDELINES_WEBHOOK_ALLOW"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(Exception):
    """The webhook's host is, or resolves to, an address the policy does not allow."""


def allowed_networks() -> tuple[Network, ...]:
    """The operator's extra networks, read from the environment at each use
    (so a changed setting applies without a restart of the dispatcher)."""
    return _parse(os.environ.get(ALLOW_VARIABLE, ""))


@lru_cache(maxsize=8)
def _parse(setting: str) -> tuple[Network, ...]:
    networks = []
    for part in filter(None, (piece.strip() for piece in setting.split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as error:
            raise ValueError(f"{ALLOW_VARIABLE}: {part!r} is not a network ({error})") from error
    return tuple(networks)


def permitted(address: Address, allowed: tuple[Network, ...]) -> bool:
    """A global unicast address, or one inside a network the operator allows."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if any(address in network for network in allowed if network.version == address.version):
        return True
    return address.is_global and not address.is_multicast


def literal_refusal(host: str) -> str | None:
    """Why a URL's host is refused before any lookup (an IP literal or a
    localhost name outside the policy), or None when only resolving can tell."""
    allowed = allowed_networks()
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        loopback = ipaddress.ip_address("127.0.0.1")
        return None if permitted(loopback, allowed) else "points at this machine (localhost)"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    return None if permitted(address, allowed) else f"is {address}, not a public address"


async def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for `host`, in the resolver's order: every
    address it resolves to must be permitted (one bad answer refuses them all)."""
    refusal = literal_refusal(host)
    if refusal is not None:
        raise AddressRefused(f"host {host} {refusal}; see {ALLOW_VARIABLE}")
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError as error:
        raise AddressRefused(f"host {host} does not resolve: {error}") from error
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]) for *_, sockaddr in answers))
    allowed = allowed_networks()
    refused = [str(address) for address in addresses if not permitted(address, allowed)]
    if refused or not addresses:
        found = ", ".join(refused) or "nothing"
        raise AddressRefused(f"host {host} resolves to {found}, not a public address; see {ALLOW_VARIABLE}")
    return [str(address) for address in addresses]
