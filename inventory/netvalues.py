"""Network values normalised once, at the edge: MACs, addresses, networks."""

import re

from netaddr import EUI, AddrFormatError, IPAddress, IPNetwork, mac_unix_expanded

from .errors import InvalidInput


def canonical_mac(value: str, field: str = "mac") -> str:
    """'AA-BB-CC-DD-EE-FF' → 'aa:bb:cc:dd:ee:ff'; anything else is a field error."""
    text = str(value).strip()
    # netaddr also reads bare integers ('1') as MACs; a written MAC always has twelve hex digits.
    try:
        if len(re.sub(r"[^0-9A-Fa-f]", "", text)) != 12:
            raise ValueError(text)
        return str(EUI(text, dialect=mac_unix_expanded))
    except (AddrFormatError, ValueError, TypeError, IndexError):
        raise InvalidInput(f"'{value}' is not a MAC address", {field: [f"'{value}' is not a MAC address"]}) from None


def canonical_ip(value: str, field: str = "ip") -> str:
    """A single IPv4/IPv6 address in its canonical text form."""
    text = str(value).strip()
    try:
        if "/" in text:
            raise ValueError(text)
        return str(IPAddress(text))
    except (AddrFormatError, ValueError, TypeError):
        raise InvalidInput(f"'{value}' is not an IP address", {field: [f"'{value}' is not an IP address"]})


def canonical_network(value: str, field: str = "network") -> IPNetwork:
    """A network in CIDR form; host bits are cleared."""
    try:
        return IPNetwork(str(value).strip()).cidr
    except (AddrFormatError, ValueError, TypeError):
        raise InvalidInput(f"'{value}' is not a network", {field: [f"'{value}' is not a network"]})


def ip_key(ip: str | None) -> str | None:
    """A text key that sorts like the address, so CIDR filters are index range scans in any database."""
    if not ip:
        return None
    return format(int(IPAddress(ip).ipv6(ipv4_compatible=False)), "032x")


def network_key_range(net: IPNetwork | str) -> tuple[str, str]:
    """First and last ip_key of a network."""
    net = IPNetwork(str(net))
    return ip_key(str(net[0])), ip_key(str(net[-1]))


def is_locally_administered(mac: str) -> bool:
    """Randomised (private) Wi-Fi MACs set this bit; they never identify a device.

    Every common notation starts with the first octet's two hex digits, so no parsing is needed on hot paths.
    """
    return bool(int(mac[:2], 16) & 2)


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def is_hostname(text: str) -> bool:
    """An RFC 1123 host name: letters, digits and inner hyphens, labels joined by dots, at most 63 characters."""
    return 0 < len(text) <= 63 and all(_LABEL.fullmatch(label) for label in text.split("."))
