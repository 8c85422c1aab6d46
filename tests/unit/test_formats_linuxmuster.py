from dataclasses import asdict

import pytest

from inventory.formats import DeviceRecord, FormatError, InterfaceRecord, parse_records, read_rows, write_devices

NB_LAN = "a101;a101-nb01;nbclass;4D:B6:A7:12:45:79;10.0.100.1;;;;classroom-studentcomputer;;1;;;;serial=PF3ABC"
NB_WLAN = "a101;a101-nb01w;nbclass;b2:5f:5e:32:12:65;10.0.250.1;;;;classroom-studentcomputer;;1;;;;serial=PF3ABC"


def lines(*text: str) -> bytes:
    return "".join(line + "\n" for line in text).encode()


def rows_of(data: bytes, school: str | None = "gs-linden"):
    return read_rows(data, "linuxmuster", "devices.csv", default_school=school)


def records_of(*text: str) -> list[DeviceRecord]:
    return parse_records(rows_of(lines(*text)), "devices.csv")


def read_errors(data: bytes, school: str | None = "gs-linden") -> list[str]:
    with pytest.raises(FormatError) as caught:
        rows_of(data, school)
    return caught.value.errors


def parse_errors(*text: str) -> list[str]:
    with pytest.raises(FormatError) as caught:
        records_of(*text)
    return caught.value.errors


def record(line: int, **values) -> DeviceRecord:
    fields = {column: None for column in DeviceRecord.__dataclass_fields__}
    return DeviceRecord(**{**fields, "line": line, "lines": (line,), "interfaces": (), **values})


def test_the_fields_of_a_line_become_columns():
    (row,) = rows_of(lines("r100;r100-pr01;printers;00:11:22:33:44:55;10.0.1.50;k1;k2;opt;printer;;0;;;;"
                           "asset=INV-7 Toner im Schrank"))
    assert (row.line, row.interface) == (1, "lan")
    assert row.values == {"school": "gs-linden", "room": "r100", "kind": "printer", "hostname": "r100-pr01",
                          "macs": "00:11:22:33:44:55", "ip": "10.0.1.50", "serial": "", "asset_tag": "INV-7",
                          "notes": "Toner im Schrank"}


def test_comment_and_blank_lines_are_skipped_and_lines_keep_their_numbers():
    data = lines("# Raum;Rechner;Gruppe;MAC;IP", "", "   ", "r1;pc01;win11;00:11:22:33:44:01;DHCP;;;;;;1",
                 "  # aus", "r1;pc02;win11;00:11:22:33:44:02;dhcp;;;;;;1")
    assert [(row.line, row.values["hostname"], row.values["ip"]) for row in rows_of(data)] == [
        (4, "pc01", ""), (6, "pc02", "")]


@pytest.mark.parametrize("role, kind", [
    ("printer", "printer"), ("switch", "switch"), ("router", "router"), ("wlan", "access_point"),
    ("server", "server"), ("addc", "server"), ("mobile", "laptop"), ("byod", "laptop"),
    ("classroom-studentcomputer", "desktop"), ("classroom-teachercomputer", "desktop"),
    ("faculty-teachercomputer", "desktop"), ("staffcomputer", "desktop"), ("thinclient", "desktop"),
    ("", "desktop"), ("iponly", "other"), ("voip", "other"), ("Printer", "printer"),
])
def test_the_sophomorix_role_gives_the_kind(role, kind):
    (row,) = rows_of(lines(f"r1;h1;group1;00:11:22:33:44:55;DHCP;;;;{role};;0"))
    assert row.values["kind"] == kind


@pytest.mark.parametrize("group, role, hostname, kind, interface", [
    ("tablet", "mobile", "tab01", "tablet", "lan"),
    ("tablet-wlan", "mobile", "tab01", "tablet", "wlan"),
    ("server-mgmt", "server", "srv1m", "server", "mgmt"),
    ("interactive_display", "iponly", "a101-tafel", "interactive_display", "lan"),
    ("nbclass", "mobile", "nb-01w", "laptop", "wlan"),
    ("nbclass", "mobile", "nb-01", "laptop", "lan"),
    ("nb-wlan", "mobile", "nb-01", "laptop", "wlan"),
    ("nbclass", "mobile", "nb-wifi-01", "laptop", "wlan"),
    ("notebooks", "mobile", "lehrer-nbw", "laptop", "lan"),
    ("wlan", "wlan", "ap-flur-1w", "access_point", "lan"),
    ("beamer-wlan", "iponly", "b1", "other", "wlan"),
])
def test_device_group_role_and_hostname_give_device_and_interface_kind(group, role, hostname, kind, interface):
    (row,) = rows_of(lines(f"r1;{hostname};{group};00:11:22:33:44:55;DHCP;;;;{role};;0"))
    assert (row.values["kind"], row.interface) == (kind, interface)


@pytest.mark.parametrize("comment, serial, asset_tag, notes", [
    ("serial=PF3ABC asset=INV-1 Klassensatz 5a", "PF3ABC", "INV-1", "Klassensatz 5a"),
    ("Lehrerzimmer, sn: PF3ABC, inv: INV-1", "PF3ABC", "INV-1", "Lehrerzimmer"),
    ('SN="PF3 ABC",INV=INV 1', "PF3 ABC", "INV", "1"),
    ("Serial:X1 asset = A-2", "X1", "A-2", ""),
    ("nur eine Notiz", "", "", "nur eine Notiz"),
    ("", "", "", ""),
])
def test_the_comment_carries_serial_asset_tag_and_notes(comment, serial, asset_tag, notes):
    (row,) = rows_of(lines(f"r1;h1;g1;00:11:22:33:44:55;DHCP;;;;;;0;;;;{comment}"))
    assert (row.values["serial"], row.values["asset_tag"], row.values["notes"]) == (serial, asset_tag, notes)


def test_a_linuxmuster_file_needs_a_school_from_the_caller():
    assert read_errors(lines(NB_LAN), school=None) == ["devices.csv: linuxmuster files carry no school: give --school"]


def test_lines_with_too_few_or_too_many_fields_and_bad_pxe_flags_are_named():
    assert read_errors(lines("r1;h1;g1;00:11:22:33:44:55", NB_LAN, "r1;h2;g1;00:11:22:33:44:56;DHCP" + ";" * 11,
                             "r1;h3;g1;00:11:22:33:44:57;DHCP;;;;;;ml")) == [
        "devices.csv:1: 4 fields; a devices.csv line has 5 to 15 separated by ';'",
        "devices.csv:3: 16 fields; a devices.csv line has 5 to 15 separated by ';'",
        "devices.csv:4: pxeFlag: 'ml' is not 0, 1, 2 or 3",
    ]


def test_a_table_with_a_header_row_read_as_linuxmuster_is_refused():
    assert read_errors(lines("# Geräteliste", "Raum;Art;Seriennummer", "A101;laptop;PF3")) == [
        "devices.csv:2: this is a table with a header row, not a linuxmuster devices.csv: read it as csv"]


def test_a_room_called_art_is_not_taken_for_a_header():
    (row,) = rows_of(lines("Art;kunst-pc1;g1;00:11:22:33:44:55;DHCP"))
    assert row.values["room"] == "Art"


def test_lan_and_wlan_lines_sharing_a_serial_are_one_notebook_with_two_interfaces():
    assert records_of("# Notebook", NB_LAN, NB_WLAN) == [record(
        2, lines=(2, 3), school="gs-linden", room="a101", kind="desktop", hostname="a101-nb01", serial="PF3ABC",
        interfaces=(InterfaceRecord("4d:b6:a7:12:45:79", "lan", "10.0.100.1"),
                    InterfaceRecord("b2:5f:5e:32:12:65", "wlan", "10.0.250.1")),
        ip="10.0.100.1")]


def test_lines_sharing_an_asset_tag_merge_and_gather_the_serial():
    devices = records_of("r1;nb02;g;00:11:22:33:44:01;DHCP;;;;mobile;;0;;;;inv:INV-2",
                         "r1;nb03;g;00:11:22:33:44:99;DHCP;;;;mobile;;0;;;;anderes Gerät",
                         "r1;nb02w;g;00:11:22:33:44:02;10.0.0.9;;;;mobile;;0;;;;inv:INV-2 sn:S2")
    assert [(d.lines, d.serial, d.asset_tag, d.ip, [i.kind for i in d.interfaces]) for d in devices] == [
        ((1, 3), "S2", "INV-2", None, ["lan", "wlan"]),
        ((2,), None, None, None, ["lan"]),
    ]


def test_lines_without_a_shared_serial_or_asset_tag_stay_two_devices():
    devices = records_of("a101;a101-nb01;g;4d:b6:a7:12:45:79;DHCP;;;;mobile;;1",
                         "a101;a101-nb01w;g;b2:5f:5e:32:12:65;DHCP;;;;mobile;;1")
    assert [(d.hostname, d.interfaces) for d in devices] == [
        ("a101-nb01", (InterfaceRecord("4d:b6:a7:12:45:79", "lan"),)),
        ("a101-nb01w", (InterfaceRecord("b2:5f:5e:32:12:65", "wlan"),)),
    ]


def test_the_same_serial_with_different_asset_tags_is_two_devices_and_an_error():
    assert parse_errors("r1;nb1;g;00:11:22:33:44:01;DHCP;;;;mobile;;0;;;;sn=S1 inv=A",
                        "r1;nb2;g;00:11:22:33:44:02;DHCP;;;;mobile;;0;;;;sn=S1 inv=B") == [
        "devices.csv:2: serial: 'S1' is also on line 1"]


def test_linuxmusters_own_rules_are_errors_with_both_lines_named():
    assert parse_errors(
        "r1;pc01;g;00:11:22:33:44:01;10.0.0.1",
        "r1;pc02;g;00-11-22-33-44-01;DHCP",
        "r1;pc03;g;00:11:22:33:44:03;10.0.0.1",
        "r1;pc04;g;00:11:22:33:44:04;DHCP",
        "r1;a101-lehrer-pc01;g;00:11:22:33:44:05;DHCP",
        "r1;;g;;DHCP",
        "r1;pc_6;g;00:11:22:33:44:zz;10.0.0.300",
    ) == [
        "devices.csv:2: macs: '00:11:22:33:44:01' is also on line 1",
        "devices.csv:3: ip: '10.0.0.1' is also on line 1",
        "devices.csv:5: hostname: 'a101-lehrer-pc01' is longer than 15 characters, linuxmuster's limit",
        "devices.csv:6: hostname: missing (linuxmuster needs one on every row)",
        "devices.csv:6: macs: missing (linuxmuster needs a MAC address on every row)",
        "devices.csv:7: hostname: 'pc_6' is not a hostname (letters, digits and inner hyphens, labels joined by "
        "dots)",
        "devices.csv:7: macs: '00:11:22:33:44:zz' is not a MAC address",
        "devices.csv:7: ip: '10.0.0.300' is not an IP address",
    ]


def test_writing_gives_one_line_of_15_fields_per_interface():
    notebook = {"school": "gs-linden", "room": "a101", "kind": "laptop", "hostname": "a101-nb01",
                "serial": "PF3 ABC", "asset_tag": "INV-1", "ip": "10.0.100.1", "notes": "Lehrkraft;\nLeihgerät",
                "macs": ["4d:b6:a7:12:45:79", "b2:5f:5e:32:12:65"],
                "interfaces": [{"mac": "4d:b6:a7:12:45:79", "kind": "lan", "ip": None},
                               {"mac": "b2:5f:5e:32:12:65", "kind": "wlan", "ip": "10.0.250.1"}]}
    assert write_devices([notebook, {"kind": "tablet", "macs": []}], "linuxmuster").decode().splitlines() == [
        'a101;a101-nb01;laptop;4d:b6:a7:12:45:79;10.0.100.1;;;;mobile;;0;;;;serial="PF3 ABC" asset=INV-1 '
        'Lehrkraft, Leihgerät',
        'a101;a101-nb01w;laptop-wlan;b2:5f:5e:32:12:65;10.0.250.1;;;;mobile;;0;;;;serial="PF3 ABC" asset=INV-1',
    ]


def test_written_hostnames_stay_unique_and_within_15_characters():
    devices = [
        {"kind": "server", "hostname": "schulserver-001", "macs": "00:11:22:33:44:01 00:11:22:33:44:02 (mgmt) "
                                                                   "00:11:22:33:44:03 00:11:22:33:44:04 (mgmt)"},
        {"kind": "printer", "hostname": "schulserver-00m", "macs": ["00:11:22:33:44:05"]},
        {"kind": "interactive_display", "macs": ["00:11:22:33:44:0A"]},
    ]
    written = [line.split(";") for line in write_devices(devices, "linuxmuster").decode().splitlines()]
    assert [(fields[1], fields[2], fields[8]) for fields in written] == [
        ("schulserver-001", "server", "server"),
        ("schulserver-0m2", "server-mgmt", "server"),
        ("schulserver-00n", "server", "server"),
        ("schulserver-0m3", "server-mgmt", "server"),
        ("schulserver-00m", "printer", "printer"),
        ("d00112233440a", "interactive_display", "iponly"),
    ]


RECORDS = [
    record(1, lines=(1, 2), school="gs-linden", room="a101", kind="laptop", hostname="a101-nb01", serial="PF3ABC",
           asset_tag="INV-1", interfaces=(InterfaceRecord("4d:b6:a7:12:45:79", "lan", "10.0.100.1"),
                                          InterfaceRecord("b2:5f:5e:32:12:65", "wlan", "10.0.250.1")),
           ip="10.0.100.1", notes="Leihgerät Lehrkraft"),
    record(3, school="gs-linden", room="a101", kind="tablet", hostname="a101-tab07", asset_tag="INV 7",
           interfaces=(InterfaceRecord("00:11:22:33:44:07", "wlan"),)),
    record(4, lines=(4, 5), school="gs-linden", room="server", kind="server", hostname="srv1",
           interfaces=(InterfaceRecord("00:11:22:33:44:08", "lan"), InterfaceRecord("00:11:22:33:44:09", "mgmt",
                                                                                    "10.0.0.9")), serial="S-1"),
    record(6, school="gs-linden", room="a101", kind="interactive_display", hostname="a101-tafel",
           interfaces=(InterfaceRecord("00:11:22:33:44:0a", "lan", "10.0.1.10"),), ip="10.0.1.10"),
]


def test_written_records_read_back_equal():
    data = write_devices([asdict(r) for r in RECORDS], "linuxmuster")
    assert parse_records(rows_of(data), "devices.csv") == RECORDS


def test_a_device_without_a_mac_is_left_out_and_one_without_a_hostname_is_named_after_its_mac():
    data = write_devices([{"kind": "projector", "hostname": "beamer"},
                          {"kind": "printer", "macs": ["00:11:22:33:44:5f"]}], "linuxmuster")
    (device,) = parse_records(rows_of(data), "devices.csv")
    assert (device.hostname, device.kind) == ("d00112233445f", "printer")
