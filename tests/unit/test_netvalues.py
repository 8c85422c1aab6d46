"""Network values are normalised once, and every bad one is a field error."""

import pytest

from inventory.errors import InvalidInput
from inventory.netvalues import (canonical_ip, canonical_mac, canonical_network, ip_key, is_locally_administered,
                                 network_key_range)


@pytest.mark.parametrize("written", ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E"])
def test_every_common_mac_notation_becomes_one_canonical_form(written):
    assert canonical_mac(written) == "00:1a:2b:3c:4d:5e"


@pytest.mark.parametrize("written", ["1", "zz:zz:zz:zz:zz:zz", "00:1a:2b:3c:4d", "", "00:1a:2b:3c:4d:5e:6f"])
def test_anything_else_is_not_a_mac(written):
    with pytest.raises(InvalidInput) as error:
        canonical_mac(written, field="macs")
    assert error.value.fields == {"macs": [f"'{written}' is not a MAC address"]}


@pytest.mark.parametrize("written, error_expected", [("10.0.0.1", False), (" 10.0.0.1 ", False), ("fe80::1", False),
                                                     ("10.0.0.256", True), ("10.0.0.0/24", True), ("host", True)])
def test_addresses_are_single_hosts(written, error_expected):
    if error_expected:
        with pytest.raises(InvalidInput):
            canonical_ip(written)
    else:
        assert canonical_ip(written) == written.strip()


def test_a_network_loses_its_host_bits():
    assert str(canonical_network("10.12.3.4/22")) == "10.12.0.0/22"
    with pytest.raises(InvalidInput):
        canonical_network("10.0.0.0/33")


def test_ip_keys_sort_like_addresses_so_a_cidr_is_a_range():
    low, high = network_key_range("10.0.1.0/24")
    assert low <= ip_key("10.0.1.7") <= high
    assert not low <= ip_key("10.0.2.0") <= high
    assert ip_key("10.0.0.9") < ip_key("10.0.0.10") < ip_key("10.0.1.0")


def test_the_locally_administered_bit_marks_randomised_macs():
    assert is_locally_administered("da:a1:19:00:00:01")
    assert not is_locally_administered("00:02:75:00:00:01")
