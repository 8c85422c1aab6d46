"""`fleet export devices` and GET /api/v1/devices/export: files a carrier hands on, and that import back unchanged."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inventory.devices import remove_device
from inventory.formats import COLUMNS
from inventory.models import AuditEvent, Device

from ..helpers import fleet

FILE_NAMES = {"csv": "export.csv", "xlsx": "export.xlsx", "linuxmuster": "gs-linden.devices.csv"}


def device_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Device))


def last_event(db) -> int:
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def events_since(db, event_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.id > event_id).order_by(AuditEvent.id)))


@pytest.fixture
def carrier(make_school, make_device):
    """Two schools; gs-linden holds a display with its OPS PC, a laptop with LAN and WLAN, an AP and a printer."""
    linden = make_school(code="gs-linden", rooms=("A101", "A102"))
    nord = make_school(code="os-nord", rooms=("B201",))
    display = make_device(
        linden, kind="interactive_display", vendor="Promethean", model="ActivPanel 9", serial="PRM-1001",
        asset_tag="INV-2024-001", hostname="a101-tafel", room="A101", ip="10.12.1.10",
        interfaces=[{"mac": "00:1a:2b:3c:4d:01", "kind": "lan"}], purchase_date=date(2024, 3, 1),
        supplier="Märkische Computer-Service GmbH", invoice="RE-2024-0042", price_net=Decimal("2500.00"),
        price_gross=Decimal("2975.00"), grant="DP-2020-0042", category="display", warranty_end=date(2029, 2, 28),
        notes="Wandhalterung, höhenverstellbar")
    make_device(linden, kind="ops_pc", serial="OPS-1001", hostname="a101-ops", room="A101",
                interfaces=[{"mac": "00:1a:2b:3c:4d:02"}], parent_id=display.id)
    make_device(linden, kind="laptop", vendor="Lenovo", model="ThinkPad L14", serial="PF-2001",
                asset_tag="INV-2024-003", hostname="a101-nb", room="A101", status="loaned",
                interfaces=[{"mac": "00:1a:2b:3c:4d:03", "kind": "lan"}, {"mac": "00:1a:2b:3c:4d:04", "kind": "wlan"}],
                price_net=Decimal("1000.00"), price_gross=Decimal("1190.00"))
    make_device(linden, kind="access_point", serial="UB-4001", hostname="a102-ap", room="A102", ip="10.12.0.20",
                interfaces=[{"mac": "00:1a:2b:3c:4d:05"}])
    make_device(linden, kind="printer", serial="HP-6001", hostname="sek-drucker", notes="Toner im Schrank",
                interfaces=[{"mac": "00:1a:2b:3c:4d:06"}])
    make_device(nord, kind="desktop", serial="DT-7001", hostname="b201-pc01", room="B201",
                interfaces=[{"mac": "00:1a:2b:3c:4d:07"}])
    return linden


def export_options(fmt: str) -> list[str]:
    return ["--format", fmt] + (["--school", "gs-linden"] if fmt == "linuxmuster" else [])


def round_trip(runner, tmp_path, fmt: str):
    """Export, then import the file just written; returns the import's result."""
    path = tmp_path / FILE_NAMES[fmt]
    exported = fleet(runner, "export", "devices", *export_options(fmt), "-o", path)
    assert exported.exit_code == 0, exported.output
    school = ["--school", "gs-linden"] if fmt == "linuxmuster" else []
    return fleet(runner, "import", "devices", path, *school)


# --- what the files hold -----------------------------------------------------------------------------------------


def test_a_csv_export_is_for_german_excel_with_the_canonical_columns(runner, db, carrier, tmp_path):
    path = tmp_path / "export.csv"
    result = fleet(runner, "export", "devices", "-o", path)
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {path}\n"
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == ";".join(COLUMNS)
    assert len(lines) == 1 + 6
    assert lines[1] == ("gs-linden;A101;interactive_display;Promethean;ActivPanel 9;PRM-1001;INV-2024-001;a101-tafel;"
                        "00:1a:2b:3c:4d:01;10.12.1.10;active;;2024-03-01;Märkische Computer-Service GmbH;"
                        "RE-2024-0042;2500,00;2975,00;DP-2020-0042;display;2029-02-28;;Wandhalterung, höhenverstellbar")
    assert lines[2].startswith("gs-linden;A101;ops_pc;;;OPS-1001;;a101-ops;00:1a:2b:3c:4d:02;;active;PRM-1001;")
    assert ";00:1a:2b:3c:4d:03 00:1a:2b:3c:4d:04 (wlan);" in lines[3]
    assert lines[6].startswith("os-nord;B201;desktop;")


def test_a_csv_export_without_output_file_goes_to_standard_output(runner, db, carrier):
    result = fleet(runner, "export", "devices", "--school", "os-nord")
    assert result.exit_code == 0, result.output
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0] == ";".join(COLUMNS)
    assert [line.split(";")[5] for line in lines[1:]] == ["DT-7001"]


def test_an_xlsx_export_opens_in_openpyxl_with_the_canonical_header(runner, db, carrier, tmp_path):
    path = tmp_path / "export.xlsx"
    result = fleet(runner, "export", "devices", "--format", "xlsx", "-o", path)
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames == ["Geräte"]
    rows = list(book["Geräte"].iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 6
    display = dict(zip(COLUMNS, rows[1]))
    assert (display["serial"], display["room"], display["macs"]) == ("PRM-1001", "A101", "00:1a:2b:3c:4d:01")
    assert display["purchase_date"] == datetime(2024, 3, 1)
    assert display["price_gross"] == 2975


def test_an_xlsx_export_needs_an_output_file(runner, db, carrier):
    result = fleet(runner, "export", "devices", "--format", "xlsx")
    assert result.exit_code == 1
    assert result.stderr == "error: XLSX is binary: give -o FILE\n"
    assert result.stdout == ""


def test_a_linuxmuster_export_writes_one_line_per_interface(runner, db, carrier, tmp_path):
    path = tmp_path / "gs-linden.devices.csv"
    result = fleet(runner, "export", "devices", "--format", "linuxmuster", "--school", "gs-linden", "-o", path)
    assert result.exit_code == 0, result.output
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    assert lines[0] == ("A101;a101-tafel;interactive_display;00:1a:2b:3c:4d:01;10.12.1.10;;;;iponly;;0;;;;"
                        "serial=PRM-1001 asset=INV-2024-001 Wandhalterung, höhenverstellbar")
    assert lines[2:4] == [
        "A101;a101-nb;laptop;00:1a:2b:3c:4d:03;DHCP;;;;mobile;;0;;;;serial=PF-2001 asset=INV-2024-003",
        "A101;a101-nbw;laptop-wlan;00:1a:2b:3c:4d:04;DHCP;;;;mobile;;0;;;;serial=PF-2001 asset=INV-2024-003"]
    assert lines[5] == ";sek-drucker;printer;00:1a:2b:3c:4d:06;DHCP;;;;printer;;0;;;;serial=HP-6001 Toner im Schrank"
    assert all(len(line.split(";")) == 15 for line in lines)


def test_a_linuxmuster_export_needs_a_school(runner, db, carrier, tmp_path):
    path = tmp_path / "devices.csv"
    result = fleet(runner, "export", "devices", "--format", "linuxmuster", "-o", path)
    assert result.exit_code == 1
    assert result.stderr == ("error: a linuxmuster devices.csv belongs to one school: "
                             "name the school (--school, ?school=)\n")
    assert not path.exists()


def test_exporting_an_unknown_school_is_an_error(runner, db, carrier, tmp_path):
    path = tmp_path / "export.csv"
    result = fleet(runner, "export", "devices", "--school", "gs-nirgendwo", "-o", path)
    assert result.exit_code == 1
    assert result.stderr == "error: unknown school 'gs-nirgendwo'\n"
    assert not path.exists()


# --- round trips: an export imports back unchanged ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "linuxmuster"])
def test_an_export_imports_back_unchanged(runner, db, carrier, tmp_path, fmt):
    in_file = 5 if fmt == "linuxmuster" else 6  # a linuxmuster file holds gs-linden only
    before, event = device_count(db), last_event(db)
    result = round_trip(runner, tmp_path, fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"0 device(s) were created, 0 updated, {in_file} unchanged\n"
    assert device_count(db) == before
    assert events_since(db, event) == ["import"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "linuxmuster"])
def test_a_retired_device_and_its_replacement_import_back_unchanged(runner, db, carrier, tmp_path, fmt,
                                                                    make_device):
    old = make_device(carrier, kind="laptop", serial="PF-0815", hostname="a102-nb", room="A102",
                      interfaces=[{"mac": "00:1a:2b:3c:4d:08"}], notes="irreparabel defekt")
    assert remove_device(old.id) == "retired"
    make_device(carrier, kind="laptop", serial="PF-0816", hostname="a102-nb", room="A102",
                interfaces=[{"mac": "00:1a:2b:3c:4d:09"}])
    before, event = device_count(db), last_event(db)
    result = round_trip(runner, tmp_path, fmt)
    assert result.exit_code == 0, result.output
    assert "0 device(s) were created, 0 updated" in result.stdout
    if fmt == "linuxmuster":
        assert "00:1a:2b:3c:4d:08" not in (tmp_path / FILE_NAMES[fmt]).read_text(encoding="utf-8")
    assert device_count(db) == before
    assert events_since(db, event) == ["import"]


def test_a_laptop_known_by_its_two_macs_only_survives_a_linuxmuster_round_trip(runner, db, make_school, make_device,
                                                                              tmp_path):
    school = make_school(code="gs-linden", rooms=("A101",))
    make_device(school, kind="laptop", hostname="a101-nb", room="A101",
                interfaces=[{"mac": "00:1a:2b:3c:4d:03", "kind": "lan"}, {"mac": "00:1a:2b:3c:4d:04", "kind": "wlan"}])
    result = round_trip(runner, tmp_path, "linuxmuster")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "0 device(s) were created, 0 updated, 1 unchanged\n"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_awkward_values_survive_a_round_trip(runner, db, make_school, make_device, tmp_path, fmt):
    school = make_school(code="gs-linden", rooms=("A101",))
    make_device(school, kind="projector", serial="0012345", asset_tag="007", hostname="aula-beamer",
                notes='Beamer; "alt"\nzweite Zeile', price_net=Decimal("98765.43"), price_gross=Decimal("0.50"))
    make_device(school, kind="other", serial="12345678901234567890", notes="=SUM(A1:A2)", status="planned")
    result = round_trip(runner, tmp_path, fmt)
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 device(s) were created, 0 updated, 2 unchanged\n"
    db.session.expire_all()
    projector = db.session.scalars(select(Device).where(Device.kind == "projector")).one()
    assert (projector.serial, projector.asset_tag) == ("0012345", "007")
    assert projector.notes == 'Beamer; "alt"\nzweite Zeile'
    assert (projector.price_net, projector.price_gross) == (Decimal("98765.43"), Decimal("0.50"))
    formula = db.session.scalars(select(Device).where(Device.kind == "other")).one()
    assert (formula.serial, formula.notes) == ("12345678901234567890", "=SUM(A1:A2)")


def test_a_large_amount_survives_an_xlsx_round_trip(runner, db, make_school, make_device, tmp_path):
    school = make_school(code="bs-ost", rooms=("A001",))
    make_device(school, kind="other", serial="VK-2021-01", model="Strukturierte Verkabelung Haus A",
                price_net=Decimal("987654.32"), price_gross=Decimal("1175308.64"))
    result = round_trip(runner, tmp_path, "xlsx")
    assert result.exit_code == 0, result.output
    assert result.stdout == "0 device(s) were created, 0 updated, 1 unchanged\n"


def test_a_device_known_only_by_kind_and_room_imports_back_unchanged(runner, db, make_school, make_device, tmp_path):
    school = make_school(code="gs-linden", rooms=("A101",))
    make_device(school, kind="document_camera", room="A101", status="planned")
    result = round_trip(runner, tmp_path, "csv")
    assert result.exit_code == 0, result.output
    assert device_count(db) == 1
    assert result.stdout == "0 device(s) were created, 0 updated, 1 unchanged\n"


def test_the_exported_parent_serial_keeps_the_ops_pc_with_its_display(runner, db, carrier, tmp_path):
    result = round_trip(runner, tmp_path, "csv")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    ops = db.session.scalars(select(Device).where(Device.serial == "OPS-1001")).one()
    assert ops.parent.serial == "PRM-1001"


# --- the same files through the API ------------------------------------------------------------------------------

EXPORT = "/api/v1/devices/export"


def test_the_api_exports_an_xlsx_that_openpyxl_opens(client, db, carrier, admin):
    response = client.get(f"{EXPORT}?format=xlsx&school=gs-linden", headers=admin)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"] == "attachment; filename=devices-gs-linden.xlsx"
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert sorted(row[5] for row in rows[1:]) == ["HP-6001", "OPS-1001", "PF-2001", "PRM-1001", "UB-4001"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "linuxmuster"])
def test_a_file_downloaded_from_the_api_uploads_back_unchanged(client, db, carrier, admin, fmt):
    download = client.get(f"{EXPORT}?format={fmt}&school=gs-linden", headers=admin)
    assert download.status_code == 200
    name = download.headers["Content-Disposition"].split("filename=")[1]
    before, event = device_count(db), last_event(db)
    upload = client.post("/api/v1/devices/import?school=gs-linden", headers=admin,
                         data={"file": (io.BytesIO(download.data), name)})
    assert upload.status_code == 200, upload.json
    assert (upload.json["created"], upload.json["updated"], upload.json["unchanged"]) == (0, 0, 5)
    assert device_count(db) == before
    assert events_since(db, event) == ["import"]


def test_the_api_refuses_a_linuxmuster_export_without_school(client, db, carrier, admin):
    response = client.get(f"{EXPORT}?format=linuxmuster", headers=admin)
    assert response.status_code == 422
    assert response.json["message"] == ("a linuxmuster devices.csv belongs to one school: "
                                        "name the school (--school, ?school=)")


def test_the_api_export_of_an_unknown_school_is_a_404(client, db, carrier, admin):
    response = client.get(f"{EXPORT}?school=gs-nirgendwo", headers=admin)
    assert response.status_code == 404
    assert response.json["fields"] == {"school": ["unknown school 'gs-nirgendwo'"]}


def test_readers_may_export_and_agents_may_not(client, db, carrier, token_for):
    assert client.get(EXPORT, headers=token_for("finance")).status_code == 200
    response = client.get(EXPORT, headers=token_for("agent", ["gs-linden"]))
    assert response.status_code == 403
    assert client.get(EXPORT).status_code == 401


def test_a_linuxmuster_export_refuses_devices_whose_names_linuxmuster_would_reject(runner, db, make_school, make_device,
                                                                                    tmp_path):
    school = make_school(code="gs-linden")
    make_device(school, hostname="lehrerzimmer-notebook-01", interfaces=[{"mac": "00:1a:2b:3c:4d:01"}])
    make_device(school, serial="NO-NAME", interfaces=[{"mac": "00:1a:2b:3c:4d:02"}])
    result = fleet(runner, "export", "devices", "--format", "linuxmuster", "--school", "gs-linden",
                   "-o", tmp_path / "devices.csv")
    assert result.exit_code == 1
    assert "2 device(s) need a host name of at most 15 characters" in result.stderr
    assert "lehrerzimmer-notebook-01, NO-NAME" in result.stderr
    assert not (tmp_path / "devices.csv").exists()
