"""Which IP addresses a webhook may reach: the one guard against server-side request forgery, used when a
webhook is saved and again before each connection.

An address is public when it is globally reachable by the IANA special-purpose address registries (IPv4 and
IPv6, the "Globally Reachable" column), read as a longest-prefix match over `SPECIAL_PURPOSE` below. An IPv6
address that carries an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) is judged by the IPv4 address(es) it
reaches; forms whose IPv4 part cannot be known from the address alone (IPv4-compatible, IPv4-translated,
local-use NAT64) are refused. Outside 2000::/3 no IPv6 address is allocated for global unicast.

The table is ours, not `ipaddress.is_global`: that property's answer has changed between Python patch
releases (3.11.10 and 3.12.4 rewrote it), and it does not unwrap NAT64, 6to4 or Teredo."""

import ipaddress
from typing import Final

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# (block, globally reachable): the IANA IPv4 and IPv6 special-purpose address registries, plus multicast
# and the IPv6 forms the registries list elsewhere (site-local, IPv4-compatible, IPv4-translated).
SPECIAL_PURPOSE: Final[tuple[tuple[str, bool], ...]] = (
    ("0.0.0.0/8", False),  # "this network"
    ("10.0.0.0/8", False),  # private
    ("100.64.0.0/10", False),  # shared address space (carrier-grade NAT)
    ("127.0.0.0/8", False),  # loopback
    ("169.254.0.0/16", False),  # link-local (cloud metadata services)
    ("172.16.0.0/12", False),  # private
    ("192.0.0.0/24", False),  # IETF protocol assignments
    ("192.0.0.9/32", True),  # port control protocol anycast
    ("192.0.0.10/32", True),  # traversal using relays around NAT anycast
    ("192.0.2.0/24", False),  # documentation (TEST-NET-1)
    ("192.31.196.0/24", True),  # AS112-v4
    ("192.52.193.0/24", True),  # automatic multicast tunneling
    ("192.88.99.0/24", False),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", False),  # private
    ("192.175.48.0/24", True),  # direct delegation AS112 service
    ("198.18.0.0/15", False),  # benchmarking
    ("198.51.100.0/24", False),  # documentation (TEST-NET-2)
    ("203.0.113.0/24", False),  # documentation (TEST-NET-3)
    ("224.0.0.0/4", False),  # multicast
    ("240.0.0.0/4", False),  # reserved, and the limited broadcast 255.255.255.255
    ("::/0", False),  # IPv6 outside the blocks below: not allocated for global unicast
    ("2000::/3", True),  # global unicast
    ("::/96", False),  # IPv4-compatible (deprecated), with the unspecified :: and loopback ::1
    ("::ffff:0:0:0/96", False),  # IPv4-translated
    ("64:ff9b:1::/48", False),  # local-use IPv4/IPv6 translation
    ("100::/64", False),  # discard-only
    ("2001::/23", False),  # IETF protocol assignments
    ("2001:1::1/128", True),  # port control protocol anycast
    ("2001:1::2/128", True),  # traversal using relays around NAT anycast
    ("2001:1::3/128", True),  # DNS-SD service registration protocol anycast
    ("2001:2::/48", False),  # benchmarking
    ("2001:3::/32", True),  # automatic multicast tunneling
    ("2001:4:112::/48", True),  # AS112-v6
    ("2001:20::/28", True),  # ORCHIDv2
    ("2001:30::/28", True),  # drone remote ID protocol entity tags
    ("2001:db8::/32", False),  # documentation
    ("2620:4f:8000::/48", True),  # direct delegation AS112 service
    ("3fff::/20", False),  # documentation
    ("5f00::/16", False),  # segment routing (SRv6) SIDs
    ("fc00::/7", False),  # unique local
    ("fe80::/10", False),  # link-local
    ("fec0::/10", False),  # site-local (deprecated)
    ("ff00::/8", False),  # multicast
)
# Longest prefix first, so that the first block containing an address is the most specific one.
_BLOCKS: Final[tuple[tuple[_Network, bool], ...]] = tuple(
    sorted(
        ((ipaddress.ip_network(block), reachable) for block, reachable in SPECIAL_PURPOSE),
        key=lambda row: -row[0].prefixlen,
    )
)
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: IpAddress) -> bool:
    carried = _carried_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    if carried is not None:
        return all(is_public(inner) for inner in carried)
    for block, reachable in _BLOCKS:
        if address.version == block.version and address in block:
            return reachable
    return True  # IPv4 outside every special-purpose block


def _carried_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...] | None:
    """The IPv4 address(es) a connection to `address` reaches, for the forms that say so."""
    if address in _IPV4_MAPPED or address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo  # the Teredo server and the client behind it
    return None
