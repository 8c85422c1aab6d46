"""`fleet import devices` and POST /api/v1/devices/import, used the way a school's IT supporter uses them."""

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from inventory.models import AuditEvent, Device, Room

from ..helpers import fleet

HEADER = "school,room,kind,vendor,model,serial,asset_tag,hostname,macs,ip,status,notes"
GOOD_ROWS = (
    "gs-linden,A101,interactive_display,Promethean,ActivPanel 9,PRM-1001,INV-2024-001,a101-tafel,"
    "00:1a:2b:3c:4d:01,10.12.1.10,active,",
    "gs-linden,A101,laptop,Lenovo,ThinkPad L14,PF-2001,INV-2024-002,a101-nb,"
    "00:1a:2b:3c:4d:02 00:1a:2b:3c:4d:03 (wlan),,active,Leihgerät Lehrkräfte",
    "gs-linden,A102,document_camera,IPEVO,V4K,IPV-3001,INV-2024-003,,,,in_stock,",
)
GOOD = "\n".join((HEADER, *GOOD_ROWS)) + "\n"


@pytest.fixture
def linden(make_school):
    return make_school(code="gs-linden", rooms=("A101", "A102", "Büro"))


def write(tmp_path, name: str, content: str | bytes, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return str(path)


def device_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Device))


def device(db, **where) -> Device:
    db.session.expire_all()
    return db.session.scalars(select(Device).filter_by(**where)).one()


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


# --- CSV, XLSX and linuxmuster files through the command line ---------------------------------------------------


def test_a_comma_separated_file_creates_every_device_and_counts_them(runner, db, linden, tmp_path):
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert "geraete.csv:2: create interactive_display a101-tafel" in result.stdout
    assert "geraete.csv:3: create laptop a101-nb" in result.stdout
    assert last_line(result.stdout) == "3 device(s) were created, 0 updated, 0 unchanged"
    assert device_count(db) == 3
    laptop = device(db, serial="PF-2001")
    assert laptop.room.code == "A101" and laptop.notes == "Leihgerät Lehrkräfte"
    assert sorted((i.mac, i.kind) for i in laptop.interfaces) == [
        ("00:1a:2b:3c:4d:02", "lan"), ("00:1a:2b:3c:4d:03", "wlan")]
    assert device(db, serial="IPV-3001").status == "in_stock"


def test_importing_the_same_file_again_changes_nothing(runner, db, linden, tmp_path):
    path = write(tmp_path, "geraete.csv", GOOD)
    fleet(runner, "import", "devices", path)
    events = db.session.scalar(select(func.max(AuditEvent.id)))
    again = fleet(runner, "import", "devices", path)
    assert again.exit_code == 0
    assert again.stdout == "0 device(s) were created, 0 updated, 3 unchanged\n"
    assert device_count(db) == 3
    new_events = db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > events)).all()
    assert new_events == ["import"]


def test_a_semicolon_file_with_german_headers_dates_and_amounts_imports(runner, db, linden, tmp_path):
    text = ("Schule;Raum;Art;Hersteller;Modell;Seriennummer;Inventarnummer;MAC-Adresse;Kaufdatum;Netto;Brutto;"
            "Garantie bis;Bemerkung\n"
            "gs-linden;A102;Laptop;Dell;Latitude 3540;DL-4711;INV-7;00-1A-2B-3C-4D-0A;01.03.2024;1.000,00;"
            "1.190,00;28.02.2027;Ladekabel fehlt\n")
    result = fleet(runner, "import", "devices", write(tmp_path, "inventar.csv", text))
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "1 device(s) were created, 0 updated, 0 unchanged"
    laptop = device(db, serial="DL-4711")
    assert (laptop.kind, laptop.asset_tag, laptop.room.code) == ("laptop", "INV-7", "A102")
    assert (laptop.price_net, laptop.price_gross) == (Decimal("1000.00"), Decimal("1190.00"))
    assert (laptop.purchase_date, laptop.warranty_end) == (date(2024, 3, 1), date(2027, 2, 28))
    assert [i.mac for i in laptop.interfaces] == ["00:1a:2b:3c:4d:0a"]


def test_a_utf8_file_with_byte_order_mark_reads_its_first_column(runner, db, linden, tmp_path):
    path = write(tmp_path, "excel.csv", GOOD.replace(",", ";"), encoding="utf-8-sig")
    assert Path(path).read_bytes()[:3] == b"\xef\xbb\xbf"
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    assert device(db, serial="PRM-1001").school.code == "gs-linden"
    assert device(db, serial="PF-2001").notes == "Leihgerät Lehrkräfte"


def test_a_windows_1252_file_keeps_the_umlauts_in_room_and_notes(runner, db, linden, tmp_path):
    text = ("Schule;Raum;Art;Seriennummer;Bemerkung\r\n"
            "gs-linden;Büro;printer;HP-77;Gerät für die Schulleitung, Größe A3\r\n")
    path = write(tmp_path, "alt.csv", text, encoding="cp1252")
    assert b"B\xfcro;printer" in Path(path).read_bytes()
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    printer = device(db, serial="HP-77")
    assert printer.room.code == "Büro"
    assert printer.notes == "Gerät für die Schulleitung, Größe A3"


def test_an_xlsx_workbook_from_a_spreadsheet_imports_with_real_dates_and_numbers(runner, db, linden, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "Geräte"
    sheet.append(["Schule", "Raum", "Art", "Seriennummer", "Rechnername", "MAC-Adresse", "Kaufdatum", "Brutto"])
    sheet.append(["gs-linden", "A101", "tablet", 4711, "a101-ipad01", "00:1a:2b:3c:4d:21", datetime(2023, 8, 15),
                  449.5])
    sheet.append(["gs-linden", "A102", "tablet", "SN-0042", "a102-ipad01", "00:1a:2b:3c:4d:22", None, 1190])
    path = tmp_path / "inventar.xlsx"
    book.save(path)
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "2 device(s) were created, 0 updated, 0 unchanged"
    first = device(db, serial="4711")
    assert (first.purchase_date, first.price_gross) == (date(2023, 8, 15), Decimal("449.50"))
    assert device(db, serial="SN-0042").price_gross == Decimal("1190.00")
    assert fleet(runner, "import", "devices", path).stdout == "0 device(s) were created, 0 updated, 2 unchanged\n"


def test_a_bad_line_is_named_by_its_physical_line_after_a_note_spanning_two_lines(runner, db, linden, tmp_path):
    text = (HEADER + "\n" + GOOD_ROWS[0] + '"Halterung\nneu"\n'
            + "gs-linden,A101,laptop,,,PF-1,,nb 1,,,active,\n")
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", text))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("geraete.csv:4: hostname: 'nb 1' is not a hostname")
    assert device_count(db) == 0


def test_a_bad_cell_in_a_workbook_is_named_by_its_row(runner, db, linden, tmp_path):
    book = Workbook()
    for row in (["Art", "Seriennummer", "IP-Adresse"], ["laptop", "PF-1", "10.12.1.5"],
                ["laptop", "PF-2", "10.12.1.300"]):
        book.active.append(row)
    book.save(tmp_path / "inventar.xlsx")
    result = fleet(runner, "import", "devices", tmp_path / "inventar.xlsx", "--school", "gs-linden")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "inventar.xlsx:3: ip: '10.12.1.300' is not an IP address"
    assert device_count(db) == 0


def test_dry_run_lists_what_would_be_created_and_writes_nothing(runner, db, linden, tmp_path):
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", GOOD), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "geraete.csv:2: create interactive_display a101-tafel" in result.stdout
    assert "geraete.csv:3: create laptop a101-nb" in result.stdout
    assert "geraete.csv:4: create document_camera" in result.stdout
    assert last_line(result.stdout) == "3 device(s) would be created, 0 updated, 0 unchanged (dry run: nothing written)"
    assert device_count(db) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_dry_run_shows_the_update_a_changed_row_would_make(runner, db, linden, tmp_path, make_device):
    laptop = make_device(linden, kind="laptop", serial="PF-2001", hostname="a101-nb", room="A102")
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", GOOD), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"geraete.csv:3: update device {laptop.id} (a101-nb):" in result.stdout
    assert "room 'A102' → 'A101'" in result.stdout
    assert device(db, serial="PF-2001").room.code == "A102"


def test_an_unknown_room_is_an_error_naming_the_line(runner, db, linden, tmp_path):
    path = write(tmp_path, "geraete.csv", GOOD.replace("gs-linden,A101,laptop", "gs-linden,C301,laptop"))
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 1
    assert result.stderr == (
        "geraete.csv:3: room: unknown room 'C301' in 'gs-linden' (create it, or import with --create-rooms / "
        "create_rooms=true)\n"
        "error: 1 problem(s) in geraete.csv; nothing was imported\n")
    assert result.stdout == ""
    assert device_count(db) == 0


def test_create_rooms_creates_the_room_a_row_names(runner, db, linden, tmp_path):
    path = write(tmp_path, "geraete.csv", GOOD.replace("gs-linden,A101,laptop", "gs-linden,C301,laptop"))
    result = fleet(runner, "import", "devices", path, "--create-rooms")
    assert result.exit_code == 0, result.output
    assert "geraete.csv:3: create room gs-linden/C301" in result.stdout
    assert last_line(result.stdout) == "3 device(s) were created, 0 updated, 0 unchanged, 1 room(s) created"
    room = db.session.scalars(select(Room).where(Room.code == "C301")).one()
    assert room.school.code == "gs-linden"
    assert device(db, serial="PF-2001").room.code == "C301"


def test_a_row_naming_another_school_than_the_school_option_is_refused(runner, db, linden, make_school, tmp_path):
    make_school(code="os-nord")
    path = write(tmp_path, "geraete.csv", GOOD.replace("gs-linden,A102", "os-nord,A102"))
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 1
    assert "geraete.csv:4: school: the row says 'os-nord' but the import is for 'gs-linden'" in result.stderr
    assert device_count(db) == 0


def test_a_file_with_good_and_bad_rows_writes_nothing_and_lists_every_bad_line(runner, db, linden, tmp_path,
                                                                               make_device):
    make_device(linden, kind="printer", serial="HP-1", hostname="sek-drucker")
    rows = [HEADER, GOOD_ROWS[0],
            "gs-linden,A101,laptop,Dell,Latitude,DL-1,,nb-1,00:1a:2b:3c:4d:zz,,active,",
            GOOD_ROWS[1],
            "gs-linden,A102,toaster,,,TO-1,,,,,active,",
            GOOD_ROWS[2]]
    before = device_count(db)
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", "\n".join(rows) + "\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "geraete.csv:3: macs: '00:1a:2b:3c:4d:zz' is not a MAC address",
        "geraete.csv:5: kind: 'toaster' is not one of: interactive_display, projector, document_camera, laptop, "
        "tablet, desktop, ops_pc, access_point, switch, router, printer, server, other",
        "error: 2 problem(s) in geraete.csv; nothing was imported",
    ]
    assert device_count(db) == before


def test_a_serial_that_belongs_to_another_device_rejects_the_whole_file(runner, db, linden, tmp_path, make_device):
    holder = make_device(linden, kind="laptop", serial="PF-9999", hostname="a102-nb", room="A102")
    tagged = make_device(linden, kind="laptop", asset_tag="INV-2020-017", hostname="a101-alt")
    rows = [HEADER, *GOOD_ROWS, "gs-linden,A101,laptop,Lenovo,ThinkPad,PF-9999,INV-2020-017,a101-nb2,,,active,"]
    before = device_count(db)
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", "\n".join(rows) + "\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"geraete.csv:5: serial/asset tag point to device {holder.id} (a102-nb) "
                                             f"but its asset tag belongs to device {tagged.id} (a101-alt)")
    assert last_line(result.stderr) == "error: 1 problem(s) in geraete.csv; nothing was imported"
    assert device_count(db) == before
    assert device(db, serial="PF-9999").hostname == "a102-nb"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "import")) == 0


def test_format_errors_and_database_conflicts_are_listed_together(runner, db, linden, tmp_path, make_device):
    holder = make_device(linden, kind="laptop", serial="PF-9999", hostname="a102-nb")
    make_device(linden, kind="laptop", asset_tag="INV-2020-017", hostname="a101-alt")
    rows = [HEADER, GOOD_ROWS[0],
            "gs-linden,A101,laptop,Dell,Latitude,DL-1,,nb-1,00:1a:2b:3c:4d:zz,,active,",
            "gs-linden,A102,toaster,,,TO-1,,,,,active,",
            "gs-linden,A101,laptop,Lenovo,ThinkPad,PF-9999,INV-2020-017,a101-nb2,,,active,"]
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", "\n".join(rows) + "\n"))
    assert result.exit_code == 1
    assert "geraete.csv:3: macs:" in result.stderr
    assert "geraete.csv:4: kind:" in result.stderr
    assert f"geraete.csv:5: serial/asset tag point to device {holder.id} (a102-nb)" in result.stderr
    assert last_line(result.stderr) == "error: 3 problem(s) in geraete.csv; nothing was imported"
    assert device_count(db) == 2


def test_a_tab_separated_file_is_refused_with_a_hint_about_the_delimiter(runner, db, linden, tmp_path):
    path = write(tmp_path, "tabs.csv", GOOD.replace(",", "\t"))
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("tabs.csv:1: could not find the columns in 'school\troom\tkind")
    assert first.endswith("is the delimiter , or ;?")
    assert device_count(db) == 0


def _sheet(book, title, rows):
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
    return sheet


def _workbook_rows():
    return [["school", "room", "kind", "serial"], ["gs-linden", "A101", "laptop", "PF-1"],
            ["gs-linden", "A102", "laptop", "PF-2"]]


def test_an_xlsx_with_merged_cells_is_refused(runner, db, linden, tmp_path):
    book = Workbook()
    book.remove(book.active)
    sheet = _sheet(book, "Geräte", [["Inventar Grundschule Am Lindenhof"], *_workbook_rows()])
    sheet.merge_cells("A1:D1")
    book.save(tmp_path / "inventar.xlsx")
    result = fleet(runner, "import", "devices", tmp_path / "inventar.xlsx")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("inventar.xlsx:1: merged cells A1:D1 in sheet 'Geräte': unmerge them, "
                                             "every cell needs its own value")
    assert device_count(db) == 0


def test_an_xlsx_with_a_second_sheet_of_data_is_refused(runner, db, linden, tmp_path):
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Geräte", _workbook_rows())
    _sheet(book, "Notizen", [["Bestellung 2024 noch offen"]])
    book.save(tmp_path / "inventar.xlsx")
    result = fleet(runner, "import", "devices", tmp_path / "inventar.xlsx")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("inventar.xlsx: the workbook has 2 sheets with data ('Geräte', "
                                             "'Notizen'); keep only the device list 'Geräte' and delete the others")
    assert device_count(db) == 0


def test_an_xlsx_with_an_empty_second_sheet_imports(runner, db, linden, tmp_path):
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Geräte", _workbook_rows())
    book.create_sheet("Tabelle2")
    book.save(tmp_path / "inventar.xlsx")
    result = fleet(runner, "import", "devices", tmp_path / "inventar.xlsx")
    assert result.exit_code == 0, result.output
    assert device_count(db) == 2


def test_a_missing_file_is_one_clear_line(runner, db, linden, tmp_path):
    missing = tmp_path / "gibtsnicht.csv"
    result = fleet(runner, "import", "devices", missing)
    assert result.exit_code == 1
    assert result.stderr == f"error: {missing}: no such file\n"


def test_a_file_whose_format_cannot_be_told_asks_for_the_format(runner, db, linden, tmp_path):
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.ods", GOOD))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("geraete.ods: cannot tell the format from the name: give the format "
                                             "(csv, xlsx or linuxmuster)")
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.ods", GOOD), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert device_count(db) == 3


# --- linuxmuster.net devices.csv ---------------------------------------------------------------------------------

LM_LAN = "A101;a101-nb01;notebooks;00:1A:2B:3C:4D:51;10.12.1.51;;;;mobile;;1;;;;serial=PF3ABC12 Lehrerpult"
LM_WLAN = "A101;a101-nb01w;notebooks;00:1A:2B:3C:4D:52;DHCP;;;;mobile;;1;;;;sn:PF3ABC12"
LM_PC = "A102;a102-pc01;win11;00:1A:2B:3C:4D:61;10.12.1.61;;;;classroom-studentcomputer;;1;;;;inv:INV-2023-101"


def lm_file(tmp_path, *lines: str) -> str:
    return write(tmp_path, "gs-linden.devices.csv", "# linuxmuster devices.csv\n" + "\n".join(lines) + "\n")


def test_linuxmuster_lan_and_wlan_rows_sharing_a_serial_become_one_device(runner, db, linden, tmp_path):
    path = lm_file(tmp_path, LM_LAN, LM_WLAN, LM_PC)
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "2 device(s) were created, 0 updated, 0 unchanged"
    assert device_count(db) == 2
    laptop = device(db, serial="PF3ABC12")
    assert (laptop.kind, laptop.hostname, laptop.room.code, laptop.ip) == ("laptop", "a101-nb01", "A101", "10.12.1.51")
    assert laptop.notes == "Lehrerpult"
    assert sorted((i.mac, i.kind) for i in laptop.interfaces) == [
        ("00:1a:2b:3c:4d:51", "lan"), ("00:1a:2b:3c:4d:52", "wlan")]
    desktop = device(db, asset_tag="INV-2023-101")
    assert (desktop.kind, desktop.school.code) == ("desktop", "gs-linden")
    again = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert again.stdout == "0 device(s) were created, 0 updated, 2 unchanged\n"


def test_linuxmuster_rows_without_a_shared_serial_become_two_devices(runner, db, linden, tmp_path):
    path = lm_file(tmp_path, LM_LAN.replace("serial=PF3ABC12 ", ""), LM_WLAN.replace("sn:PF3ABC12", ""))
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "2 device(s) were created, 0 updated, 0 unchanged"
    hosts = sorted(db.session.scalars(select(Device.hostname)))
    assert hosts == ["a101-nb01", "a101-nb01w"]
    assert all(len(d.interfaces) == 1 for d in db.session.scalars(select(Device)))


def test_linuxmuster_hostnames_longer_than_15_characters_are_refused(runner, db, linden, tmp_path):
    path = lm_file(tmp_path, LM_PC, LM_LAN.replace("a101-nb01", "a101-lehrer-nb01"))
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 1
    assert ("gs-linden.devices.csv:3: hostname: 'a101-lehrer-nb01' is longer than 15 characters, linuxmuster's limit"
            in result.stderr.splitlines())
    assert device_count(db) == 0


def test_linuxmuster_a_mac_on_two_lines_is_refused(runner, db, linden, tmp_path):
    path = lm_file(tmp_path, LM_PC, LM_PC.replace("a102-pc01", "a102-pc02").replace("inv:INV-2023-101", ""))
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 1
    assert "gs-linden.devices.csv:3: macs: '00:1a:2b:3c:4d:61' is also on line 2" in result.stderr.splitlines()
    assert device_count(db) == 0


def test_linuxmuster_without_school_is_a_clear_error(runner, db, linden, tmp_path):
    result = fleet(runner, "import", "devices", lm_file(tmp_path, LM_LAN))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "gs-linden.devices.csv: linuxmuster files carry no school: give --school"
    assert device_count(db) == 0


# --- matching rows to the inventory ------------------------------------------------------------------------------


def test_a_row_matching_a_serial_updates_that_device_and_audits_before_and_after(runner, db, linden, tmp_path,
                                                                                make_device):
    existing = make_device(linden, kind="laptop", serial="PF-2001", hostname="nb-alt", room="A102", vendor="Lenovo")
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", GOOD))
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "2 device(s) were created, 1 updated, 0 unchanged"
    laptop = device(db, serial="PF-2001")
    assert laptop.id == existing.id
    assert (laptop.hostname, laptop.room.code, laptop.model) == ("a101-nb", "A101", "ThinkPad L14")
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == existing.id, AuditEvent.object_type == "device",
        AuditEvent.action == "update")).one()
    assert event.changes["hostname"] == ["nb-alt", "a101-nb"]
    assert event.changes["room"] == ["A102", "A101"]
    assert "vendor" not in event.changes


def test_empty_cells_leave_existing_values_alone(runner, db, linden, tmp_path, make_device):
    make_device(linden, kind="laptop", serial="PF-2001", hostname="a101-nb", notes="Akku getauscht", vendor="Lenovo")
    path = write(tmp_path, "geraete.csv", "serial,kind,room,notes,vendor\nPF-2001,laptop,A101,,\n")
    result = fleet(runner, "import", "devices", path, "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    laptop = device(db, serial="PF-2001")
    assert (laptop.notes, laptop.vendor, laptop.room.code) == ("Akku getauscht", "Lenovo", "A101")


def test_a_row_matching_a_mac_updates_that_device(runner, db, linden, tmp_path, make_device):
    existing = make_device(linden, kind="access_point", hostname="ap-alt", interfaces=[{"mac": "00:1a:2b:3c:4d:71"}])
    path = write(tmp_path, "geraete.csv", "school,room,kind,hostname,serial,macs\n"
                                         "gs-linden,A101,access_point,a101-ap,UB-71,001A.2B3C.4D71\n")
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout) == "0 device(s) were created, 1 updated, 0 unchanged"
    ap = device(db, id=existing.id)
    assert (ap.hostname, ap.serial, ap.room.code) == ("a101-ap", "UB-71", "A101")
    assert device_count(db) == 1


def test_a_row_whose_serial_and_mac_point_to_different_devices_names_both(runner, db, linden, tmp_path, make_device):
    a = make_device(linden, kind="laptop", serial="PF-A", hostname="nb-a")
    b = make_device(linden, kind="laptop", serial="PF-B", hostname="nb-b", interfaces=[{"mac": "00:1a:2b:3c:4d:81"}])
    path = write(tmp_path, "geraete.csv", "school,kind,serial,macs\ngs-linden,laptop,PF-A,00:1a:2b:3c:4d:81\n")
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"geraete.csv:2: serial/asset tag point to device {a.id} (nb-a) but its "
                                             f"MAC belongs to device {b.id} (nb-b)")
    assert [i.mac for i in device(db, id=b.id).interfaces] == ["00:1a:2b:3c:4d:81"]
    assert device(db, id=a.id).interfaces == []


def test_parent_serial_links_an_ops_pc_to_its_display(runner, db, linden, tmp_path):
    text = ("school,room,kind,serial,hostname,parent_serial\n"
            "gs-linden,A101,ops_pc,OPS-1,a101-ops,PRM-1\n"
            "gs-linden,A101,interactive_display,PRM-1,a101-tafel,\n")
    path = write(tmp_path, "tafeln.csv", text)
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.output
    display, ops = device(db, serial="PRM-1"), device(db, serial="OPS-1")
    assert ops.parent_id == display.id
    assert [child.serial for child in display.children] == ["OPS-1"]
    assert fleet(runner, "import", "devices", path).stdout == "0 device(s) were created, 0 updated, 2 unchanged\n"


def test_a_parent_serial_nobody_has_is_an_error(runner, db, linden, tmp_path):
    path = write(tmp_path, "tafeln.csv", "school,kind,serial,parent_serial\ngs-linden,ops_pc,OPS-1,PRM-404\n")
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "tafeln.csv:2: parent_serial: no device with serial 'PRM-404'"
    assert device_count(db) == 0


def test_moving_an_ops_pc_to_another_display_is_reported_as_an_update(runner, db, linden, tmp_path, make_device):
    first = make_device(linden, kind="interactive_display", serial="PRM-1", hostname="a101-tafel")
    make_device(linden, kind="interactive_display", serial="PRM-2", hostname="a102-tafel")
    make_device(linden, kind="ops_pc", serial="OPS-1", hostname="a101-ops", parent_id=first.id)
    path = write(tmp_path, "tafeln.csv", "school,kind,serial,parent_serial\ngs-linden,ops_pc,OPS-1,PRM-2\n")
    dry = fleet(runner, "import", "devices", path, "--dry-run")
    assert last_line(dry.stdout) == "0 device(s) would be created, 1 updated, 0 unchanged (dry run: nothing written)"
    result = fleet(runner, "import", "devices", path)
    assert device(db, serial="OPS-1").parent.serial == "PRM-2"
    assert last_line(result.stdout) == "0 device(s) were created, 1 updated, 0 unchanged"


def test_a_file_retiring_a_printer_can_give_its_fixed_ip_to_the_replacement(runner, db, linden, tmp_path,
                                                                            make_device):
    old = make_device(linden, kind="printer", serial="HP-OLD", hostname="sek-drucker", ip="10.12.0.50")
    path = write(tmp_path, "ersatz.csv", "school,kind,serial,hostname,status,ip\n"
                                        "gs-linden,printer,HP-OLD,sek-drucker-alt,retired,\n"
                                        "gs-linden,printer,HP-NEW,sek-drucker,active,10.12.0.50\n")
    result = fleet(runner, "import", "devices", path)
    assert result.exit_code == 0, result.stderr
    assert device(db, id=old.id).status == "retired"
    assert device(db, serial="HP-NEW").ip == "10.12.0.50"


def test_an_import_is_audited_as_the_cli_user_and_ends_with_an_import_event(runner, db, linden, tmp_path):
    result = fleet(runner, "import", "devices", write(tmp_path, "geraete.csv", GOOD), "--school", "gs-linden")
    assert result.exit_code == 0, result.output
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["create", "create", "create", "import"]
    assert all(e.actor.startswith("cli:") for e in events)
    final = events[-1]
    assert (final.object_type, final.object_repr, final.school_code) == ("file", "geraete.csv", "gs-linden")
    assert final.changes == {"created": [None, 3], "updated": [None, 0]}
    assert events[0].changes["serial"] == [None, "PRM-1001"]


# --- the same import through the API -----------------------------------------------------------------------------

IMPORT = "/api/v1/devices/import"


def test_the_api_imports_a_multipart_upload(client, db, linden, admin):
    response = client.post(f"{IMPORT}?school=gs-linden", headers=admin,
                           data={"file": (io.BytesIO(GOOD.encode()), "geraete.csv")})
    assert response.status_code == 200, response.json
    assert response.json["created"] == 3 and response.json["dry_run"] is False
    assert "geraete.csv:2: create interactive_display a101-tafel" in response.json["lines"]
    assert device_count(db) == 3
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.actor.startswith("token:")


def test_the_api_imports_a_raw_body(client, db, linden, admin):
    response = client.post(f"{IMPORT}?format=csv&school=gs-linden", headers=admin, data=GOOD.encode(),
                           content_type="text/csv")
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["updated"], response.json["unchanged"]) == (3, 0, 0)
    again = client.post(f"{IMPORT}?format=csv&school=gs-linden", headers=admin, data=GOOD.encode(),
                        content_type="text/csv")
    assert (again.json["created"], again.json["updated"], again.json["unchanged"]) == (0, 0, 3)
    assert device_count(db) == 3


def test_the_api_imports_an_xlsx_body(client, db, linden, admin):
    book = Workbook()
    for row in _workbook_rows():
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    response = client.post(f"{IMPORT}?format=xlsx", headers=admin, data=data.getvalue(),
                           content_type="application/octet-stream")
    assert response.status_code == 200, response.json
    assert response.json["created"] == 2


def test_the_api_imports_a_raw_body_sent_the_way_curl_sends_it(client, db, linden, admin):
    response = client.post(f"{IMPORT}?format=csv", headers=admin, data=GOOD.encode(),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.json
    assert device_count(db) == 3


def test_an_api_dry_run_writes_nothing(client, db, linden, admin):
    response = client.post(f"{IMPORT}?format=csv&dry_run=true", headers=admin, data=GOOD.encode(),
                           content_type="text/csv")
    assert response.status_code == 200, response.json
    assert response.json["dry_run"] is True and response.json["created"] == 3
    assert device_count(db) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.object_type != "api_token")) == 0


def test_a_bad_file_is_a_422_listing_its_lines(client, db, linden, admin):
    bad = GOOD.replace("00:1a:2b:3c:4d:01", "00:1a:2b").replace("document_camera", "toaster")
    response = client.post(f"{IMPORT}?format=csv", headers=admin, data=bad.encode(), content_type="text/csv")
    assert response.status_code == 422
    assert response.json["error"] == "FileRejected"
    lines = response.json["fields"]["lines"]
    assert [line.split(": ")[0] for line in lines] == ["upload.csv:2", "upload.csv:4"]
    assert lines[0] == "upload.csv:2: macs: '00:1a:2b' is not a MAC address"
    assert device_count(db) == 0


def test_an_unknown_room_through_the_api_is_a_422_and_create_rooms_fixes_it(client, db, linden, admin):
    body = GOOD.replace("gs-linden,A102", "gs-linden,C301").encode()
    response = client.post(f"{IMPORT}?format=csv", headers=admin, data=body, content_type="text/csv")
    assert response.status_code == 422
    assert response.json["fields"]["lines"] == [
        "upload.csv:4: room: unknown room 'C301' in 'gs-linden' (create it, or import with --create-rooms / "
        "create_rooms=true)"]
    response = client.post(f"{IMPORT}?format=csv&create_rooms=true", headers=admin, data=body,
                           content_type="text/csv")
    assert response.status_code == 200
    assert response.json["rooms_created"] == 1


def test_a_finance_token_cannot_import(client, db, linden, token_for):
    response = client.post(f"{IMPORT}?format=csv", headers=token_for("finance"), data=GOOD.encode(),
                           content_type="text/csv")
    assert response.status_code == 403
    assert response.json["message"] == "the role 'finance' may not change the inventory"
    assert device_count(db) == 0


def test_a_support_token_limited_to_one_school_cannot_import_into_another(client, db, linden, make_school, token_for):
    make_school(code="os-nord", rooms=("A101", "A102"))
    support = token_for("support", ["os-nord"])
    response = client.post(f"{IMPORT}?format=csv&school=gs-linden", headers=support, data=GOOD.encode(),
                           content_type="text/csv")
    assert response.status_code == 403
    assert response.json["message"] == "this token is limited to os-nord; not 'gs-linden'"
    response = client.post(f"{IMPORT}?format=csv&school=os-nord", headers=support, data=GOOD.encode(),
                           content_type="text/csv")
    assert response.status_code == 422
    lines = response.json["fields"]["lines"]
    assert "upload.csv:2: school: the row says 'gs-linden' but the import is for 'os-nord'" in lines
    response = client.post(f"{IMPORT}?format=csv", headers=support, data=GOOD.encode(), content_type="text/csv")
    assert response.status_code == 422
    assert response.json["fields"]["lines"][0] == "upload.csv:2: school: this token may not change 'gs-linden'"
    assert device_count(db) == 0
    own = GOOD.replace("gs-linden,", "os-nord,")
    response = client.post(f"{IMPORT}?format=csv&school=os-nord", headers=support, data=own.encode(),
                           content_type="text/csv")
    assert response.status_code == 200
    assert response.json["created"] == 3


def test_a_limited_support_token_cannot_take_over_another_schools_device(client, db, linden, make_school,
                                                                          make_device, token_for):
    make_school(code="os-nord", rooms=("A101",))
    theirs = make_device(linden, kind="laptop", serial="PF-2001", hostname="a101-nb")
    support = token_for("support", ["os-nord"])
    response = client.post(f"{IMPORT}?format=csv&school=os-nord", headers=support,
                           data=b"kind,serial,hostname\nlaptop,PF-2001,meins\n", content_type="text/csv")
    assert response.status_code == 422
    assert response.json["fields"]["lines"] == [
        f"upload.csv:2: matches device {theirs.id} (a101-nb) of 'gs-linden', which this token may not change"]
    unmoved = device(db, id=theirs.id)
    assert (unmoved.school.code, unmoved.hostname) == ("gs-linden", "a101-nb")


def test_parent_serials_that_form_a_loop_are_refused_and_nothing_is_written(runner, db, linden, tmp_path):
    loop = ("school,room,kind,serial,parent_serial\n"
            "gs-linden,A101,interactive_display,CYC-A,CYC-B\n"
            "gs-linden,A101,ops_pc,CYC-B,CYC-A\n")
    result = fleet(runner, "import", "devices", write(tmp_path, "loop.csv", loop))
    assert result.exit_code == 1
    assert "loop.csv:3: parent_serial:" in result.stderr and "loop" in result.stderr
    assert device_count(db) == 0
