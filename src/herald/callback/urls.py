"""Where callbacks may go: public https URLs; never private, link-local or other internal
addresses (Herald must not become a way into the operator's network). Loopback only when the
operator allows it (development, tests).

The name is resolved and checked on registration and again before every delivery, and the
delivery connects to the address that was checked (so a DNS answer that changes in between
cannot redirect it inside).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from herald.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallbackUrlRefused(ValidationFailed):
    def __init__(self, reason: str) -> None:
        super().__init__([{"field": "url", "message": reason}], message=f"url: {reason}")


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    address: IpAddress


def _forbidden(address: IpAddress, allow_loopback: bool) -> str | None:
    if address.is_loopback:
        return None if allow_loopback else "points at a loopback address"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped, allow_loopback)
    if address.is_link_local:
        return "points at a link-local address"
    if (
        address.is_private
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    ):
        return "points at a private or reserved address"
    return None


async def check(url: str, allow_loopback: bool) -> Target:
    """The URL's host resolved to an address it may be delivered to; CallbackUrlRefused else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackUrlRefused("is not a valid URL") from None
    host = parts.hostname
    if not host or parts.scheme not in ("https", "http"):
        raise CallbackUrlRefused("must be an https URL")
    if parts.username or parts.password:
        raise CallbackUrlRefused("must not carry credentials")
    addresses = await _resolve(host, port or (443 if parts.scheme == "https" else 80))
    if not addresses:
        raise CallbackUrlRefused("does not resolve")
    for address in addresses:
        problem = _forbidden(address, allow_loopback)
        if problem:
            raise CallbackUrlRefused(problem)
    if parts.scheme == "http" and not (allow_loopback and all(a.is_loopback for a in addresses)):
        raise CallbackUrlRefused("must be an https URL (http only for loopback when allowed)")
    return Target(url=url, host=host, address=addresses[0])


async def _resolve(host: str, port: int) -> list[IpAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # unresolvable, or a name IDNA cannot encode
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
