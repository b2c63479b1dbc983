"""Where callbacks may go: public https URLs; never private, link-local or other internal
addresses (Herald must not become a way into the operator's network). Loopback only when the
operator allows it (development, tests), and only written plainly (``127.0.0.1``, ``[::1]``,
a name that resolves there): never through an IPv6 form that wraps it.

A URL is refused where a browser would refuse it or read it differently from Herald: control
characters, spaces, backslashes, percent signs or credentials in it, a host that is not a plain
name or address. Every address form that can reach inside is refused: IPv4 written in decimal,
octal or hex (``2130706433``, ``0177.0.0.1``), and IPv6 addresses carrying an IPv4 one
(IPv4-mapped, IPv4-compatible, 6to4, NAT64, Teredo) when the IPv4 address is not public.

The name is resolved and checked on registration and again before every delivery, and the
delivery connects to the address that was checked (so a DNS answer that changes in between
cannot redirect it inside).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass

import httpx

from herald.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What a browser strips, rejects or reads as a separator: a URL holding one means something
# else to somebody.
_UNSAFE_CHARACTER = re.compile(r"[\x00-\x20\x7f\\]")
_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.IGNORECASE)
# A host a browser parses as an IPv4 address (its last label is a number): decimal, octal
# (leading 0) and hex (0x) labels, one to four of them.
_IPV4_NUMBER_FORM = re.compile(r"(?:(?:0x[0-9a-f]*|[0-9]+)\.){0,3}(?:0x[0-9a-f]*|[0-9]+)\.?", re.I)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use, never public
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class CallbackUrlRefused(ValidationFailed):
    def __init__(self, reason: str) -> None:
        super().__init__([{"field": "url", "message": reason}], message=f"url: {reason}")


class MalformedCallbackUrl(CallbackUrlRefused):
    """Refused for its form, not its address: retrying it can never help."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    address: IpAddress


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to through a transition mechanism."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client), the client already de-obfuscated
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def forbidden(address: IpAddress, allow_loopback: bool) -> str | None:
    """Why a delivery must not go to ``address``; None when it may."""
    if address.is_loopback:
        return None if allow_loopback else "points at a loopback address"
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return "points at a private or reserved address"
        inside = embedded_ipv4(address)
        for ipv4 in inside:
            # Loopback too, whatever the setting: no local receiver needs an IPv6 wrapping.
            problem = forbidden(ipv4, allow_loopback=False)
            if problem:
                return f"{problem} (inside an IPv6 address)"
        if inside and (address.ipv4_mapped is not None or address in _NAT64):
            return None  # a public IPv4 address, written as IPv6: judged above
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


def parse(url: str) -> tuple[httpx.URL, str]:
    """The URL as the delivery's HTTP client reads it, and its host (IDNA-encoded, no
    brackets); CallbackUrlRefused when a browser would refuse it or could read it otherwise."""
    if _UNSAFE_CHARACTER.search(url):
        raise MalformedCallbackUrl("must not contain spaces, control characters or backslashes")
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
        port = parsed.port
    except (httpx.InvalidURL, UnicodeError):
        raise MalformedCallbackUrl("is not a valid URL") from None
    if parsed.scheme not in ("https", "http") or not host:
        raise MalformedCallbackUrl("must be an https URL")
    if parsed.userinfo:
        raise MalformedCallbackUrl("must not carry credentials")
    if port is not None and not 0 < port < 65536:
        raise MalformedCallbackUrl("is not a valid URL (port)")
    if ":" not in host and not _is_host_name(host):
        raise MalformedCallbackUrl("is not a valid URL (host)")
    return parsed, host


_DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_URL_LENGTH = 2000  # callback_endpoints.url


def canonical(parsed: httpx.URL) -> str:
    """The URL as stored: as the HTTP client reads it (scheme and host lower-cased, IDNA
    host), without a default port or a fragment (never sent), so that spellings of one target
    compare equal."""
    if parsed.port == _DEFAULT_PORTS.get(parsed.scheme):
        parsed = parsed.copy_with(port=None)
    return str(parsed.copy_with(fragment=None))


def _is_host_name(host: str) -> bool:
    labels = host.removesuffix(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


async def check(url: str, allow_loopback: bool) -> Target:
    """The URL's host resolved to an address it may be delivered to; CallbackUrlRefused else.
    ``Target.url`` is its ``canonical`` spelling."""
    parsed, host = parse(url)
    if len(canonical(parsed)) > MAX_URL_LENGTH:  # percent-encoding lengthens a path
        raise MalformedCallbackUrl(f"is longer than {MAX_URL_LENGTH} characters once encoded")
    addresses = await _resolve(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    if not addresses:
        raise CallbackUrlRefused("does not resolve")
    for address in addresses:
        problem = forbidden(address, allow_loopback)
        if problem:
            raise CallbackUrlRefused(problem)
    if parsed.scheme == "http" and not (allow_loopback and all(a.is_loopback for a in addresses)):
        raise CallbackUrlRefused("must be an https URL (http only for loopback when allowed)")
    return Target(url=canonical(parsed), host=host, address=addresses[0])


# Names that never lead to a public host (RFC 6761, RFC 6762, ICANN's .internal).
_INTERNAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa", "lan")


def check_public_https(url: str) -> str:
    """A URL somebody else fetches (the provider, for a header's file): https, to a public
    host; its ``canonical`` spelling, or CallbackUrlRefused. An address written in the URL
    must be public; a name must be a dotted one outside the internal suffixes. The name is not
    resolved: Herald never fetches it, and a send's checks make no network round trip."""
    parsed, host = parse(url)
    if parsed.scheme != "https":
        raise MalformedCallbackUrl("must be an https URL")
    address = literal_address(host)
    name = host.lower().rstrip(".")
    if address is not None:
        problem = forbidden(address, allow_loopback=False)
        if problem:
            raise CallbackUrlRefused(problem)
    elif "." not in name or any(
        name == suffix or name.endswith(f".{suffix}") for suffix in _INTERNAL_SUFFIXES
    ):
        raise CallbackUrlRefused("points at a name that is not public")
    spelled = canonical(parsed)
    if len(spelled) > MAX_URL_LENGTH:
        raise MalformedCallbackUrl(f"is longer than {MAX_URL_LENGTH} characters once encoded")
    return spelled


def literal_address(host: str) -> IpAddress | None:
    """The address a host written as one stands for (every form a browser reads as one), or
    None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _IPV4_NUMBER_FORM.fullmatch(host):
        # As a browser reads it (and the C library's resolver would): never a name.
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            raise MalformedCallbackUrl("is not a valid URL (IPv4 address)") from None
    return None


async def _resolve(host: str, port: int) -> list[IpAddress]:
    address = literal_address(host)
    if address is not None:
        return [address]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # unresolvable, or a name IDNA cannot encode
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
