from datetime import date
from decimal import Decimal

import pytest

from inventory.errors import FileRejected
from inventory.formats import COLUMNS, DeviceRecord, FormatError, InterfaceRecord, Row, parse_records

KINDS = ("interactive_display, projector, document_camera, laptop, tablet, desktop, ops_pc, access_point, switch, "
         "router, printer, server, other")


def parse(**values) -> DeviceRecord:
    (record,) = parse_records([Row(2, {"kind": "laptop", **values})], "f.csv")
    return record


def errors_of(*rows: dict) -> list[str]:
    with pytest.raises(FormatError) as caught:
        parse_records([Row(line, values) for line, values in enumerate(rows, start=2)], "f.csv")
    return caught.value.errors


def test_a_full_row_becomes_a_record_with_typed_values():
    values = {
        "school": "gs-linden", "room": "A101", "kind": "laptop", "vendor": "Lenovo", "model": "ThinkPad L14",
        "serial": "PF3ABC", "asset_tag": "INV-2020-0042", "hostname": "a101-nb01",
        "macs": "AA-BB-CC-DD-EE-01, aabb.ccdd.ee02 (wlan)", "ip": "10.12.1.20", "status": "active",
        "parent_serial": "DISP-1", "purchase_date": "01.09.2020", "supplier": "Systemhaus Nord",
        "invoice": "R-2020-77", "price_net": "1.000,00", "price_gross": "1190", "grant": "DP-2020-0042",
        "category": "mobile", "warranty_end": "2023-08-31", "notes": "Klassensatz 5a",
    }
    assert parse_records([Row(7, values)], "f.csv") == [DeviceRecord(
        line=7, school="gs-linden", room="A101", kind="laptop", vendor="Lenovo", model="ThinkPad L14",
        serial="PF3ABC", asset_tag="INV-2020-0042", hostname="a101-nb01",
        interfaces=(InterfaceRecord("aa:bb:cc:dd:ee:01", "lan"), InterfaceRecord("aa:bb:cc:dd:ee:02", "wlan")),
        ip="10.12.1.20", status="active", parent_serial="DISP-1", purchase_date=date(2020, 9, 1),
        supplier="Systemhaus Nord", invoice="R-2020-77", price_net=Decimal("1000.00"),
        price_gross=Decimal("1190.00"), grant="DP-2020-0042", category="mobile", warranty_end=date(2023, 8, 31),
            commissioned=None,
        notes="Klassensatz 5a", lines=(7,))]


def test_empty_cells_and_absent_columns_are_none():
    record = parse(room="", notes="  ")
    assert (record.room, record.notes, record.status, record.price_net) == (None, None, None, None)
    assert record.interfaces == ()


@pytest.mark.parametrize("column, text, expected", [
    ("kind", "Laptop", "laptop"),
    ("kind", "Interactive Display", "interactive_display"),
    ("kind", "access-point", "access_point"),
    ("status", "In_Stock", "in_stock"),
    ("category", "WORK_EQUIPMENT", "work_equipment"),
    ("hostname", "a101-nb01.schule.example", "a101-nb01.schule.example"),
    ("hostname", "4711", "4711"),
    ("ip", "10.12.1.20", "10.12.1.20"),
    ("ip", "2001:DB8::1", "2001:db8::1"),
    ("purchase_date", "2020-09-01", date(2020, 9, 1)),
    ("purchase_date", "01.09.2020", date(2020, 9, 1)),
    ("purchase_date", "1.9.2020", date(2020, 9, 1)),
    ("price_net", "1190.00", Decimal("1190.00")),
    ("price_net", "1.190,00", Decimal("1190.00")),
    ("price_net", "1190,5", Decimal("1190.50")),
    ("price_net", "1190.5", Decimal("1190.50")),
    ("price_net", "1.190", Decimal("1190.00")),
    ("price_net", "1.234.567,89", Decimal("1234567.89")),
    ("price_net", "1,190.00", Decimal("1190.00")),
    ("price_net", "1.190,00 €", Decimal("1190.00")),
    ("price_net", "€1190", Decimal("1190.00")),
    ("price_gross", "0", Decimal("0.00")),
])
def test_accepted_values_are_normalised(column, text, expected):
    record = parse(**{column: text})
    assert getattr(record, column) == expected


@pytest.mark.parametrize("text, expected", [
    ("aa:bb:cc:dd:ee:ff", [("aa:bb:cc:dd:ee:ff", "lan")]),
    ("AA-BB-CC-DD-EE-FF", [("aa:bb:cc:dd:ee:ff", "lan")]),
    ("aabb.ccdd.eeff", [("aa:bb:cc:dd:ee:ff", "lan")]),
    ("aabbccddeeff", [("aa:bb:cc:dd:ee:ff", "lan")]),
    ("aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02", [("aa:bb:cc:dd:ee:01", "lan"), ("aa:bb:cc:dd:ee:02", "lan")]),
    ("aa:bb:cc:dd:ee:01,aa:bb:cc:dd:ee:02", [("aa:bb:cc:dd:ee:01", "lan"), ("aa:bb:cc:dd:ee:02", "lan")]),
    ("aa:bb:cc:dd:ee:01; aa:bb:cc:dd:ee:02", [("aa:bb:cc:dd:ee:01", "lan"), ("aa:bb:cc:dd:ee:02", "lan")]),
    ("aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02 (WLAN) aa:bb:cc:dd:ee:03(mgmt)",
     [("aa:bb:cc:dd:ee:01", "lan"), ("aa:bb:cc:dd:ee:02", "wlan"), ("aa:bb:cc:dd:ee:03", "mgmt")]),
])
def test_mac_cells_list_canonical_macs_with_interface_kinds(text, expected):
    record = parse(macs=text)
    assert [(interface.mac, interface.kind) for interface in record.interfaces] == expected
    assert all(interface.ip is None for interface in record.interfaces)


@pytest.mark.parametrize("column, text, message", [
    ("kind", "toaster", f"'toaster' is not one of: {KINDS}"),
    ("status", "kaputt", "'kaputt' is not one of: planned, ordered, in_stock, active, loaned, repair, missing, "
                         "retired"),
    ("category", "moebel", "'moebel' is not one of: network, wlan, server, platform, display, work_equipment, "
                           "mobile"),
    ("macs", "xx", "'xx' is not a MAC address"),
    ("macs", "1", "'1' is not a MAC address"),
    ("macs", "aa:bb:cc:dd:ee:ff:00:11", "'aa:bb:cc:dd:ee:ff:00:11' is not a MAC address"),
    ("macs", "aa:bb:cc:dd:ee:ff AA-BB-CC-DD-EE-FF", "'aa:bb:cc:dd:ee:ff' is listed twice"),
    ("macs", "(wlan) aa:bb:cc:dd:ee:ff", "'(wlan)' must follow a MAC address"),
    ("macs", "aa:bb:cc:dd:ee:ff (wifi)", "'(wifi)' is not an interface kind (lan, wlan or mgmt)"),
    ("ip", "10.12.0.0/22", "'10.12.0.0/22' is not an IP address"),
    ("ip", "10.12.0.256", "'10.12.0.256' is not an IP address"),
    ("ip", "010.12.0.1", "'010.12.0.1' is not an IP address"),
    ("purchase_date", "2020-02-30", "'2020-02-30' is not a date (YYYY-MM-DD or TT.MM.JJJJ)"),
    ("purchase_date", "31.02.2020", "'31.02.2020' is not a date (YYYY-MM-DD or TT.MM.JJJJ)"),
    ("warranty_end", "9/1/2020", "'9/1/2020' is not a date (YYYY-MM-DD or TT.MM.JJJJ)"),
    ("price_net", "zwölf", "'zwölf' is not an amount (such as 1190.00 or 1.190,00)"),
    ("price_net", "1.19.0", "'1.19.0' is not an amount (such as 1190.00 or 1.190,00)"),
    ("price_net", "-5,00", "'-5,00' is negative"),
    ("price_net", "1190,005", "'1190,005' has more than 2 decimals"),
    ("price_gross", "1,190", "'1,190' has more than 2 decimals"),
    ("hostname", "-nb01", "'-nb01' is not a hostname (letters, digits and inner hyphens, labels joined by dots)"),
    ("hostname", "nb_01", "'nb_01' is not a hostname (letters, digits and inner hyphens, labels joined by dots)"),
    ("hostname", "nb01.", "'nb01.' is not a hostname (letters, digits and inner hyphens, labels joined by dots)"),
    ("hostname", "h" * 64, "64 characters; at most 63 are allowed"),
    ("school", "s" * 41, "41 characters; at most 40 are allowed"),
    ("room", "r" * 41, "41 characters; at most 40 are allowed"),
    ("vendor", "v" * 81, "81 characters; at most 80 are allowed"),
    ("model", "m" * 121, "121 characters; at most 120 are allowed"),
    ("serial", "s" * 81, "81 characters; at most 80 are allowed"),
    ("parent_serial", "s" * 81, "81 characters; at most 80 are allowed"),
    ("asset_tag", "a" * 41, "41 characters; at most 40 are allowed"),
    ("supplier", "s" * 121, "121 characters; at most 120 are allowed"),
    ("invoice", "i" * 81, "81 characters; at most 80 are allowed"),
    ("grant", "g" * 61, "61 characters; at most 60 are allowed"),
    ("notes", "n" * 2001, "2001 characters; at most 2000 are allowed"),
])
def test_bad_values_are_reported_with_file_line_and_column(column, text, message):
    assert errors_of({"kind": "laptop", column: text}) == [f"f.csv:2: {column}: {message}"]


def test_a_missing_kind_is_an_error():
    assert errors_of({"room": "A101"}) == [f"f.csv:2: kind: missing (one of: {KINDS})"]


def test_every_problem_on_every_line_is_reported_at_once():
    assert errors_of(
        {"kind": "toaster", "ip": "x"},
        {"kind": "laptop"},
        {"kind": "laptop", "macs": "aa:bb:cc:dd:ee:zz yy", "price_net": "-1"},
    ) == [
        f"f.csv:2: kind: 'toaster' is not one of: {KINDS}",
        "f.csv:2: ip: 'x' is not an IP address",
        "f.csv:4: macs: 'aa:bb:cc:dd:ee:zz' is not a MAC address",
        "f.csv:4: macs: 'yy' is not a MAC address",
        "f.csv:4: price_net: '-1' is negative",
    ]


def test_rows_with_nothing_but_whitespace_are_skipped():
    rows = [Row(2, {"kind": " ", "room": "\t"}), Row(3, {column: "" for column in COLUMNS}), Row(4, {"kind": "tablet"})]
    assert [record.line for record in parse_records(rows, "f.csv")] == [4]


@pytest.mark.parametrize("column, first, second, value", [
    ("serial", {"serial": "PF3ABC"}, {"serial": "PF3ABC"}, "PF3ABC"),
    ("asset_tag", {"asset_tag": "INV-1"}, {"asset_tag": "INV-1"}, "INV-1"),
    ("macs", {"macs": "aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02"}, {"macs": "AA-BB-CC-DD-EE-02"}, "aa:bb:cc:dd:ee:02"),
])
def test_the_same_identity_on_two_devices_names_both_lines(column, first, second, value):
    assert errors_of({"kind": "laptop", **first}, {"kind": "tablet"}, {"kind": "laptop", **second}) == [
        f"f.csv:4: {column}: '{value}' is also on line 2"]


def test_the_same_fixed_ip_on_two_table_rows_is_allowed():
    records = parse_records([Row(2, {"kind": "printer", "ip": "10.0.0.5"}),
                             Row(3, {"kind": "printer", "ip": "10.0.0.5"})], "f.csv")
    assert [record.ip for record in records] == ["10.0.0.5", "10.0.0.5"]


def test_non_text_values_are_read_as_their_text():
    record = parse(price_net=Decimal("1190.00"), purchase_date=date(2020, 9, 1))
    assert (record.price_net, record.purchase_date) == (Decimal("1190.00"), date(2020, 9, 1))


def test_format_errors_are_rejected_files_carrying_their_lines():
    with pytest.raises(FileRejected) as caught:
        parse_records([Row(2, {"kind": "toaster"})], "f.csv")
    assert isinstance(caught.value, FormatError)
    assert caught.value.fields == {"lines": [f"f.csv:2: kind: 'toaster' is not one of: {KINDS}"]}
    assert str(caught.value) == f"f.csv:2: kind: 'toaster' is not one of: {KINDS}"
