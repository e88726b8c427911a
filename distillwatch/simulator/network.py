"""Where requests come from: autonomous systems, their address prefixes, per-account address use.

The tables below give, for each class of network the gateway's IP intelligence knows
(``hosting``, ``residential``, ``mobile``, ``business``, ``education``, ``proxy``), a set
of autonomous systems with their organisation, country and address prefixes. Names and
numbers are those of well-known networks so the output reads like real gateway logs;
the prefix assignments are illustrative, not an IP-intelligence database.

An account's :class:`Network` decides which address each of its requests uses: a fixed
egress set (cloud back ends, NATs), a rotating pool (proxy farms), or a home line with
changing leases plus a carrier-grade-NAT mobile pool shared with strangers (individuals).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from random import Random
from typing import Literal, Protocol

__all__ = [
    "ASNS",
    "REGIONS",
    "VPN_EXIT_ASNS",
    "Address",
    "Asn",
    "AsnKind",
    "FixedAddresses",
    "HomeAndMobile",
    "Network",
    "Region",
    "address_pool",
    "asns",
    "random_address",
    "region_of",
]

AsnKind = Literal["hosting", "residential", "mobile", "business", "education", "proxy"]


@dataclass(frozen=True, slots=True)
class Asn:
    """An autonomous system as the gateway's IP intelligence reports it."""

    number: int
    org: str
    kind: AsnKind
    country: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Address:
    """A client address and the autonomous system it belongs to."""

    ip: str
    asn: Asn


@dataclass(frozen=True, slots=True)
class Region:
    """Where a user lives: country, UTC offset in November, language, share of individuals."""

    name: str
    country: str
    utc_offset_h: float
    language: str
    weight: float


REGIONS: tuple[Region, ...] = (
    Region("us-east", "US", -5.0, "en", 0.19),
    Region("us-west", "US", -8.0, "en", 0.11),
    Region("canada", "CA", -5.0, "en", 0.03),
    Region("mexico", "MX", -6.0, "es", 0.03),
    Region("brazil", "BR", -3.0, "en", 0.04),
    Region("uk", "GB", 0.0, "en", 0.07),
    Region("germany", "DE", 1.0, "de", 0.07),
    Region("france", "FR", 1.0, "fr", 0.05),
    Region("spain", "ES", 1.0, "es", 0.03),
    Region("netherlands", "NL", 1.0, "en", 0.02),
    Region("india", "IN", 5.5, "en", 0.09),
    Region("china", "CN", 8.0, "zh", 0.02),
    Region("taiwan", "TW", 8.0, "zh", 0.02),
    Region("singapore", "SG", 8.0, "en", 0.02),
    Region("japan", "JP", 9.0, "ja", 0.05),
    Region("korea", "KR", 9.0, "en", 0.03),
    Region("australia", "AU", 11.0, "en", 0.03),
    Region("switzerland", "CH", 1.0, "de", 0.0),
)
"""Regions of users; ``weight`` is the share of individual users living there."""

ASNS: tuple[Asn, ...] = (
    # residential broadband
    Asn(
        7922,
        "Comcast Cable Communications, LLC",
        "residential",
        "US",
        ("73.0.0.0/8", "24.0.0.0/12", "2601::/20"),
    ),
    Asn(20115, "Charter Communications", "residential", "US", ("47.32.0.0/11", "2600:6c00::/24")),
    Asn(7018, "AT&T Services, Inc.", "residential", "US", ("99.0.0.0/10", "2600:1700::/28")),
    Asn(701, "Verizon Business", "residential", "US", ("71.160.0.0/11", "2600:4040::/30")),
    Asn(812, "Rogers Communications Canada Inc.", "residential", "CA", ("99.224.0.0/11",)),
    Asn(577, "Bell Canada", "residential", "CA", ("70.48.0.0/13",)),
    Asn(8151, "UNINET", "residential", "MX", ("189.128.0.0/11",)),
    Asn(18881, "TELEFONICA BRASIL S.A", "residential", "BR", ("179.96.0.0/12", "2804:7f0::/28")),
    Asn(
        2856,
        "British Telecommunications PLC",
        "residential",
        "GB",
        ("86.128.0.0/10", "2a00:23c0::/26"),
    ),
    Asn(5089, "Virgin Media Limited", "residential", "GB", ("82.0.0.0/14",)),
    Asn(3320, "Deutsche Telekom AG", "residential", "DE", ("79.192.0.0/10", "2003::/19")),
    Asn(3209, "Vodafone GmbH", "residential", "DE", ("88.64.0.0/12", "2a02:8100::/27")),
    Asn(3215, "Orange S.A.", "residential", "FR", ("90.0.0.0/9", "2a01:cb00::/25")),
    Asn(12322, "Free SAS", "residential", "FR", ("78.192.0.0/10", "2a01:e00::/26")),
    Asn(3352, "TELEFONICA DE ESPANA S.A.U.", "residential", "ES", ("83.32.0.0/11",)),
    Asn(33915, "Vodafone Libertel B.V.", "residential", "NL", ("84.24.0.0/13",)),
    Asn(1136, "KPN B.V.", "residential", "NL", ("77.160.0.0/12",)),
    Asn(24560, "Bharti Airtel Ltd.", "residential", "IN", ("122.160.0.0/12",)),
    Asn(9829, "National Internet Backbone", "residential", "IN", ("117.192.0.0/11",)),
    Asn(
        4134,
        "CHINANET-BACKBONE",
        "residential",
        "CN",
        ("113.64.0.0/11", "180.96.0.0/11", "240e::/20"),
    ),
    Asn(4837, "CHINA UNICOM China169 Backbone", "residential", "CN", ("123.112.0.0/12",)),
    Asn(
        3462,
        "Data Communication Business Group",
        "residential",
        "TW",
        ("114.24.0.0/13", "1.160.0.0/12"),
    ),
    Asn(9506, "Singtel Fibre Broadband", "residential", "SG", ("116.14.0.0/15",)),
    Asn(4713, "NTT Communications Corporation", "residential", "JP", ("114.144.0.0/12",)),
    Asn(2516, "KDDI CORPORATION", "residential", "JP", ("118.0.0.0/14", "2001:268::/32")),
    Asn(4766, "Korea Telecom", "residential", "KR", ("121.128.0.0/10",)),
    Asn(1221, "Telstra Limited", "residential", "AU", ("101.160.0.0/11", "120.144.0.0/13")),
    Asn(3303, "Swisscom (Schweiz) AG", "residential", "CH", ("85.0.0.0/13",)),
    # mobile carriers (carrier-grade NAT)
    Asn(21928, "T-Mobile USA, Inc.", "mobile", "US", ("172.32.0.0/11", "2607:fb90::/28")),
    Asn(
        22394,
        "Cellco Partnership DBA Verizon Wireless",
        "mobile",
        "US",
        ("174.192.0.0/10", "2600:1000::/24"),
    ),
    Asn(6805, "Telefonica Germany GmbH & Co.OHG", "mobile", "DE", ("2.240.0.0/12",)),
    Asn(12576, "EE Limited", "mobile", "GB", ("31.94.0.0/15",)),
    Asn(51207, "Free Mobile SAS", "mobile", "FR", ("37.160.0.0/12",)),
    Asn(55836, "Reliance Jio Infocomm Limited", "mobile", "IN", ("49.32.0.0/11", "2409:4000::/22")),
    Asn(17676, "SoftBank Corp.", "mobile", "JP", ("126.0.0.0/8",)),
    Asn(
        9808,
        "China Mobile Communications Group Co., Ltd.",
        "mobile",
        "CN",
        ("111.0.0.0/10", "2409:8000::/20"),
    ),
    Asn(26615, "TIM S/A", "mobile", "BR", ("177.56.0.0/14",)),
    # cloud and hosting
    Asn(
        16509, "Amazon.com, Inc.", "hosting", "US", ("3.208.0.0/12", "34.192.0.0/12", "52.0.0.0/11")
    ),
    Asn(16509, "Amazon.com, Inc.", "hosting", "IE", ("34.240.0.0/13",)),
    Asn(16509, "Amazon.com, Inc.", "hosting", "DE", ("3.120.0.0/14",)),
    Asn(16509, "Amazon.com, Inc.", "hosting", "JP", ("13.112.0.0/14",)),
    Asn(16509, "Amazon.com, Inc.", "hosting", "SG", ("13.212.0.0/14",)),
    Asn(396982, "Google LLC", "hosting", "US", ("34.64.0.0/10", "35.184.0.0/13")),
    Asn(8075, "Microsoft Corporation", "hosting", "US", ("20.0.0.0/11", "40.64.0.0/10")),
    Asn(8075, "Microsoft Corporation", "hosting", "NL", ("20.50.0.0/15",)),
    Asn(
        24940,
        "Hetzner Online GmbH",
        "hosting",
        "DE",
        ("88.198.0.0/16", "5.9.0.0/16", "78.46.0.0/15", "2a01:4f8::/29"),
    ),
    Asn(24940, "Hetzner Online GmbH", "hosting", "FI", ("95.216.0.0/15", "65.108.0.0/15")),
    Asn(16276, "OVH SAS", "hosting", "FR", ("51.68.0.0/16", "54.36.0.0/14", "145.239.0.0/16")),
    Asn(16276, "OVH SAS", "hosting", "CA", ("51.222.0.0/16",)),
    Asn(
        14061,
        "DigitalOcean, LLC",
        "hosting",
        "US",
        ("138.197.0.0/16", "159.89.0.0/16", "167.99.0.0/16"),
    ),
    Asn(14061, "DigitalOcean, LLC", "hosting", "SG", ("128.199.0.0/16",)),
    Asn(63949, "Akamai Connected Cloud", "hosting", "US", ("172.104.0.0/15", "45.79.0.0/16")),
    Asn(20473, "The Constant Company, LLC", "hosting", "US", ("45.32.0.0/16", "149.28.0.0/16")),
    Asn(20473, "The Constant Company, LLC", "hosting", "JP", ("45.76.96.0/19",)),
    Asn(
        45102,
        "Alibaba (US) Technology Co., Ltd.",
        "hosting",
        "SG",
        ("47.74.0.0/15", "8.219.0.0/16"),
    ),
    Asn(45102, "Alibaba (US) Technology Co., Ltd.", "hosting", "US", ("47.88.0.0/14",)),
    Asn(
        132203,
        "Tencent Building, Kejizhongyi Avenue",
        "hosting",
        "SG",
        ("43.128.0.0/14", "129.226.0.0/16"),
    ),
    Asn(51167, "Contabo GmbH", "hosting", "DE", ("161.97.0.0/16", "173.212.192.0/18")),
    Asn(60781, "LeaseWeb Netherlands B.V.", "hosting", "NL", ("37.48.64.0/18", "85.17.0.0/16")),
    Asn(9009, "M247 Europe SRL", "hosting", "RO", ("146.70.0.0/16", "185.156.44.0/22")),
    # anonymising proxies and VPN exits
    Asn(212238, "Datacamp Limited", "proxy", "GB", ("138.199.0.0/17", "156.146.32.0/19")),
    Asn(62240, "Clouvider Limited", "proxy", "GB", ("45.134.140.0/22", "185.42.104.0/22")),
    Asn(136787, "TEFINCOM S.A.", "proxy", "PA", ("185.236.200.0/22", "194.127.192.0/22")),
    Asn(147049, "PacketHub S.A.", "proxy", "PA", ("89.187.160.0/19",)),
    # universities and research networks
    Asn(3, "Massachusetts Institute of Technology", "education", "US", ("18.0.0.0/11",)),
    Asn(32, "Stanford University", "education", "US", ("171.64.0.0/14",)),
    Asn(
        25,
        "University of California at Berkeley",
        "education",
        "US",
        ("128.32.0.0/16", "169.229.0.0/16"),
    ),
    Asn(
        786,
        "Jisc Services Limited",
        "education",
        "GB",
        ("128.232.0.0/16", "129.67.0.0/16", "2001:630::/32"),
    ),
    Asn(
        680,
        "Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.",
        "education",
        "DE",
        ("141.20.0.0/16", "129.187.0.0/16", "2001:638::/32"),
    ),
    Asn(559, "SWITCH", "education", "CH", ("129.132.0.0/16",)),
    Asn(2200, "Renater", "education", "FR", ("193.48.0.0/14", "2001:660::/32")),
    Asn(
        4538,
        "China Education and Research Network Center",
        "education",
        "CN",
        ("166.111.0.0/16", "162.105.0.0/16"),
    ),
    Asn(
        2907,
        "Research Organization of Information and Systems, National Institute of Informatics",
        "education",
        "JP",
        ("133.11.0.0/16", "130.54.0.0/16"),
    ),
    Asn(1237, "KREONET", "education", "KR", ("143.248.0.0/16",)),
    Asn(7575, "Australian Academic and Research Network", "education", "AU", ("130.56.0.0/16",)),
    Asn(55824, "NKN Core Network", "education", "IN", ("14.139.0.0/16",)),
    # business access networks (company offices)
    Asn(174, "Cogent Communications", "business", "US", ("38.96.0.0/13",)),
    Asn(3356, "Level 3 Parent, LLC", "business", "US", ("4.0.0.0/9", "8.0.0.0/12")),
    Asn(6461, "Zayo Bandwidth", "business", "US", ("64.124.0.0/15",)),
    Asn(8220, "COLT Technology Services Group Limited", "business", "GB", ("212.36.128.0/18",)),
    Asn(8220, "COLT Technology Services Group Limited", "business", "DE", ("213.61.0.0/16",)),
    Asn(3257, "GTT Communications Inc.", "business", "DE", ("89.149.128.0/17",)),
    Asn(2914, "NTT America, Inc.", "business", "JP", ("61.200.0.0/13",)),
    Asn(6453, "TATA COMMUNICATIONS (AMERICA) INC", "business", "IN", ("14.140.0.0/14",)),
    Asn(5511, "Orange S.A.", "business", "FR", ("193.251.0.0/16",)),
)
"""Autonomous systems known to the simulated gateway, by class of network."""


VPN_EXIT_ASNS = (212238, 62240, 136787, 147049, 9009)
"""Numbers of the autonomous systems (in :data:`ASNS`) hosting commercial VPN exits."""


@cache
def asns(kind: AsnKind, country: str | None = None) -> tuple[Asn, ...]:
    """Return the autonomous systems of a kind, in a country if one is given and has any.

    Parameters
    ----------
    kind : AsnKind
        Class of network.
    country : str, optional
        ISO country code; when no network of that kind is known there, all networks of
        the kind are returned (a user abroad, or served from a neighbouring country).
    """
    of_kind = tuple(a for a in ASNS if a.kind == kind)
    local = tuple(a for a in of_kind if a.country == country)
    return local or of_kind


@cache
def region_of(country: str) -> Region:
    """Return the first region of a country (the one that sets its office hours)."""
    return next(r for r in REGIONS if r.country == country)


@cache
def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(prefix)


def _in_prefix(rng: Random, prefix: str) -> str:
    net = _network(prefix)
    base = int(net.network_address)
    if net.version == 6:
        # keep the routing prefix, draw a /64 and an interface identifier
        host_bits = min(net.max_prefixlen - net.prefixlen, 96)
        return str(ipaddress.IPv6Address(base + rng.getrandbits(host_bits)))
    n = base + rng.randrange(net.num_addresses)
    n = (n & ~0xFF) | rng.randint(1, 254)
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def random_address(rng: Random, asn: Asn, *, ipv6: bool = False) -> Address:
    """Draw an address of ``asn``, IPv6 when asked for and the network has an IPv6 prefix.

    Parameters
    ----------
    rng : Random
        Source of randomness.
    asn : Asn
        Network to draw from.
    ipv6 : bool
        Prefer an IPv6 address.
    """
    v6 = [p for p in asn.prefixes if ":" in p]
    v4 = [p for p in asn.prefixes if ":" not in p]
    prefixes = v6 if ipv6 and v6 else v4
    return Address(_in_prefix(rng, rng.choice(prefixes)), asn)


def address_pool(rng: Random, asn: Asn, size: int) -> tuple[Address, ...]:
    """Draw ``size`` distinct addresses from one /24 of ``asn``: a rented block of proxies or NATs.

    Parameters
    ----------
    rng : Random
        Source of randomness.
    asn : Asn
        Network the block belongs to.
    size : int
        Number of addresses (at most 254).
    """
    first = random_address(rng, asn).ip
    block = first.rsplit(".", 1)[0]
    hosts = rng.sample(range(1, 255), min(size, 254))
    return tuple(Address(f"{block}.{h}", asn) for h in hosts)


class Network(Protocol):
    """How an account picks the source address of each request."""

    def address(self, rng: Random, t: float) -> Address:
        """Return the address of a request sent at ``t`` seconds into the window."""
        ...


@dataclass(frozen=True, slots=True)
class FixedAddresses:
    """A fixed set of addresses used uniformly: cloud egress, office NATs, or a rotating proxy pool.

    The tuple may be shared between accounts (a campaign's pool); repeating an address
    weights it.
    """

    addresses: tuple[Address, ...]

    def address(self, rng: Random, t: float) -> Address:
        """Return one of the addresses, uniformly."""
        if len(self.addresses) == 1:
            return self.addresses[0]
        return rng.choice(self.addresses)


@dataclass(frozen=True, slots=True)
class HomeAndMobile:
    """A home line whose address changes with each DHCP lease, plus a shared mobile pool.

    Attributes
    ----------
    home : tuple of Address
        One address per lease period, in order.
    lease_s : float
        Length of a lease period in seconds.
    mobile : tuple of Address
        The carrier's carrier-grade-NAT pool (shared with other subscribers).
    mobile_share : float
        Share of requests sent from the phone.
    """

    home: tuple[Address, ...]
    lease_s: float
    mobile: tuple[Address, ...]
    mobile_share: float

    def address(self, rng: Random, t: float) -> Address:
        """Return the mobile address or the home lease current at ``t``."""
        if self.mobile and rng.random() < self.mobile_share:
            return rng.choice(self.mobile)
        return self.home[min(int(t // self.lease_s), len(self.home) - 1)]
