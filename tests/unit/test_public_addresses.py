"""The webhook address guard, row by row over the IANA special-purpose address registries (IPv4 and IPv6):
an address inside each block, with the verdict the registry's "Globally Reachable" column gives."""

import ipaddress

import pytest

from adapters.public_addresses import is_public
from adapters.webhook_sender import HttpWebhookSender
from application.errors import UnsafeTarget

IPV4_REGISTRY = [
    ("0.0.0.0", False),  # 0.0.0.0/8 this network
    ("0.1.2.3", False),
    ("10.0.0.1", False),  # 10.0.0.0/8 private
    ("100.64.0.1", False),  # 100.64.0.0/10 shared address space
    ("100.127.255.254", False),
    ("127.0.0.1", False),  # 127.0.0.0/8 loopback
    ("127.255.255.254", False),
    ("169.254.169.254", False),  # 169.254.0.0/16 link-local: cloud metadata
    ("172.16.0.1", False),  # 172.16.0.0/12 private
    ("172.31.255.254", False),
    ("192.0.0.1", False),  # 192.0.0.0/24 IETF protocol assignments
    ("192.0.0.8", False),  # 192.0.0.8/32 IPv4 dummy address
    ("192.0.0.9", True),  # 192.0.0.9/32 port control protocol anycast
    ("192.0.0.10", True),  # 192.0.0.10/32 TURN anycast
    ("192.0.0.170", False),  # 192.0.0.170/32 NAT64/DNS64 discovery
    ("192.0.0.171", False),
    ("192.0.2.1", False),  # 192.0.2.0/24 documentation
    ("192.31.196.1", True),  # 192.31.196.0/24 AS112-v4
    ("192.52.193.1", True),  # 192.52.193.0/24 automatic multicast tunneling
    ("192.88.99.1", False),  # 192.88.99.0/24 deprecated 6to4 relay anycast
    ("192.168.1.1", False),  # 192.168.0.0/16 private
    ("192.175.48.1", True),  # 192.175.48.0/24 direct delegation AS112
    ("198.18.0.1", False),  # 198.18.0.0/15 benchmarking
    ("198.19.255.254", False),
    ("198.51.100.1", False),  # 198.51.100.0/24 documentation
    ("203.0.113.1", False),  # 203.0.113.0/24 documentation
    ("224.0.0.1", False),  # 224.0.0.0/4 multicast
    ("239.255.255.250", False),
    ("240.0.0.1", False),  # 240.0.0.0/4 reserved
    ("255.255.255.255", False),  # limited broadcast
    # Just outside the blocks: public.
    ("8.8.8.8", True),
    ("93.184.216.34", True),
    ("100.63.255.255", True),
    ("100.128.0.0", True),
    ("172.15.255.255", True),
    ("172.32.0.0", True),
    ("192.0.1.1", True),
    ("198.17.255.255", True),
    ("198.20.0.0", True),
    ("223.255.255.255", True),
]

IPV6_REGISTRY = [
    ("::1", False),  # ::1/128 loopback
    ("::", False),  # ::/128 unspecified
    ("::ffff:127.0.0.1", False),  # ::ffff:0:0/96 IPv4-mapped: judged by the IPv4 address
    ("::ffff:10.0.0.1", False),
    ("::ffff:8.8.8.8", True),
    ("64:ff9b::a00:1", False),  # 64:ff9b::/96 NAT64 of 10.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("64:ff9b:1::a00:1", False),  # 64:ff9b:1::/48 local-use translation
    ("64:ff9b:1::808:808", False),
    ("100::1", False),  # 100::/64 discard-only
    ("2001::1", False),  # 2001::/23 IETF protocol assignments (2001::/32 Teredo: see below)
    ("2001:1::1", True),  # 2001:1::1/128 port control protocol anycast
    ("2001:1::2", True),  # 2001:1::2/128 TURN anycast
    ("2001:1::3", True),  # 2001:1::3/128 DNS-SD service registration anycast
    ("2001:1::4", False),
    ("2001:2::1", False),  # 2001:2::/48 benchmarking
    ("2001:3::1", True),  # 2001:3::/32 automatic multicast tunneling
    ("2001:4:112::1", True),  # 2001:4:112::/48 AS112-v6
    ("2001:10::1", False),  # 2001:10::/28 deprecated ORCHID
    ("2001:20::1", True),  # 2001:20::/28 ORCHIDv2
    ("2001:30::1", True),  # 2001:30::/28 drone remote ID
    ("2001:db8::1", False),  # 2001:db8::/32 documentation
    ("2002:a9fe:a9fe::1", False),  # 2002::/16 6to4 of 169.254.169.254
    ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ("2620:4f:8000::1", True),  # 2620:4f:8000::/48 direct delegation AS112
    ("3fff::1", False),  # 3fff::/20 documentation
    ("5f00::1", False),  # 5f00::/16 SRv6 SIDs
    ("fc00::1", False),  # fc00::/7 unique local
    ("fd12:3456::1", False),
    ("fe80::1", False),  # fe80::/10 link-local
    ("fec0::1", False),  # fec0::/10 site-local (deprecated)
    ("ff02::1", False),  # ff00::/8 multicast
    ("::127.0.0.1", False),  # ::/96 IPv4-compatible (deprecated)
    ("::8.8.8.8", False),
    ("::ffff:0:a9fe:a9fe", False),  # ::ffff:0:0:0/96 IPv4-translated
    ("::ffff:0:808:808", False),
    ("4000::1", False),  # outside 2000::/3: not allocated for global unicast
    ("1::1", False),
    ("2606:4700:4700::1111", True),  # global unicast
    ("2a00:1450:4001::1", True),
    ("3ffe:ffff::1", True),  # just below 3fff::/20
]

# Teredo (2001::/32): the server's IPv4 address, then the client's, inverted, in the last 32 bits.
TEREDO = [
    ("2001:0:808:808::fefe:fefe", True),  # server 8.8.8.8, client 1.1.1.1
    ("2001:0:808:808::f5ff:fffe", False),  # client 10.0.0.1
    ("2001:0:a00:1::fefe:fefe", False),  # server 10.0.0.1
    ("2001:0:808:808::5601:5601", False),  # client 169.254.169.254
]


@pytest.mark.parametrize(("address", "public"), IPV4_REGISTRY + IPV6_REGISTRY + TEREDO)
def test_each_special_purpose_block_has_the_registrys_verdict(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_teredo_rows_name_the_addresses_they_claim() -> None:
    teredo = ipaddress.IPv6Address("2001:0:808:808::5601:5601").teredo
    assert teredo is not None and tuple(map(str, teredo)) == ("8.8.8.8", "169.254.169.254")


PROBES = [
    "http://[64:ff9b::a00:1]/hook",
    "http://[::127.0.0.1]/hook",
    "http://[::ffff:0:a9fe:a9fe]/hook",
    "http://[64:ff9b:1::a00:1]/hook",
    "http://[2002:a9fe:a9fe::1]/hook",
    "http://[fec0::1]/hook",
]


@pytest.mark.parametrize("url", PROBES)
def test_the_same_guard_refuses_at_save_time_and_at_connect_time(url: str) -> None:
    sender = HttpWebhookSender(allow_private=False, connect_timeout=0.1, read_timeout=0.1)
    with pytest.raises(UnsafeTarget, match="is not a public address"):
        sender.check_target(url)
    answer = sender.post(url, b"{}", {})
    assert answer.status_code is None and answer.error is not None
    assert "is not a public address" in answer.error
