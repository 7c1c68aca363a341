"""Which URLs and addresses a fetch may reach (DESIGN.md, "Identity and security").

A URL must be http(s) on an allowed host:port; its name is resolved once here and every address
it resolves to must be public, unless DIYMOD_IMAGE_ALLOW_PRIVATE opens an explicitly listed
host (tests, local demos).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from imaging.fetching.policy import (
    DEFAULT_PORTS,
    FetchPolicy,
    FetchRefused,
    FetchTransientError,
    IPAddress,
)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path_and_query: str


def url_target(url: str) -> Target:
    """Split `url` into what we check; refuse anything that is not plain http(s)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise FetchRefused(f"malformed URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(f"scheme {scheme or '(none)'!r} is not allowed")
    if not parts.hostname:
        raise FetchRefused("URL has no host")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("credentials in URLs are not allowed")
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    host = parts.hostname.rstrip(".").lower()
    return Target(scheme, host, port or DEFAULT_PORTS[scheme], path + query)


def host_allowed(target: Target, allowed_hosts: tuple[str, ...]) -> bool:
    return allowed_entry_matching(target, allowed_hosts) is not None


def allowed_entry_matching(target: Target, allowed_hosts: tuple[str, ...]) -> str | None:
    """The allow-list entry that admits `target`, or None. An entry `host` allows the scheme's
    default port only; `host:port` exactly that port; `*.example.com` any subdomain on the
    default port."""
    default_port = DEFAULT_PORTS[target.scheme]
    for entry in allowed_hosts:
        pattern, port = allowed_entry_split(entry)
        if (port or default_port) != target.port:
            continue
        if pattern.startswith("*.") and target.host.endswith(pattern[1:]):
            return entry
        if pattern == target.host:
            return entry
    return None


def private_address_permitted(target: Target, policy: FetchPolicy) -> bool:
    """DIYMOD_IMAGE_ALLOW_PRIVATE (tests, local demos) only opens hosts an operator listed by
    exact name: never a wildcard, never a built-in public media host (i.redd.it answering with
    10.0.0.5 is an attack or a broken resolver, even on a demo machine)."""
    if not policy.allow_private:
        return False
    entry = allowed_entry_matching(target, policy.allowed_hosts)
    return (
        entry is not None and not entry.startswith("*.") and target.host not in policy.media_hosts
    )


def allowed_entry_split(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):  # "[::1]:8080"
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, int(port)
    return entry, None


def address_public(address: IPAddress) -> bool:
    """True only for globally routable unicast addresses; IPv4 hidden inside IPv6 is unwrapped
    first (Python 3.11 does not classify `::ffff:127.0.0.1` as loopback)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None and not address_public(embedded):
            return False
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or site_local
        # is_global also excludes the shared 100.64.0.0/10 range and other special blocks.
        or not address.is_global
    )


def host_addresses(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` once; every use of the answer goes through this list."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise FetchRefused(f"host {host!r} does not resolve") from None
        raise FetchTransientError(f"DNS lookup of {host!r} failed: {error}") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchRefused(f"host {host!r} has no address")
    return addresses


def target_address(target: Target, policy: FetchPolicy) -> IPAddress:
    """The one checked address to connect to, or FetchRefused."""
    if not host_allowed(target, policy.allowed_hosts):
        raise FetchRefused(f"host {target.host}:{target.port} is not on the image allow-list")
    addresses = host_addresses(target.host, target.port)
    private_permitted = private_address_permitted(target, policy)
    # One bad record refuses the host: DNS answers rotate, so "the first one" is not a check.
    for address in addresses:
        if not address_public(address) and not private_permitted:
            raise FetchRefused(f"host {target.host} resolves to non-public address {address}")
    return addresses[0]


def host_is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
