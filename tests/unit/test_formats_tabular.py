import io
from dataclasses import asdict, replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from inventory.formats import (COLUMNS, DeviceRecord, FormatError, InterfaceRecord, Row, detect_format,
                               parse_records, read_rows, write_devices)

KNOWN = ", ".join(COLUMNS)


def rows_of(data: bytes, fmt: str = "csv", filename: str = "f.csv") -> list[tuple[int, dict]]:
    return [(row.line, row.values) for row in read_rows(data, fmt, filename)]


def errors_of(data: bytes, fmt: str = "csv", filename: str = "f.csv") -> list[str]:
    with pytest.raises(FormatError) as caught:
        read_rows(data, fmt, filename)
    return caught.value.errors


def workbook(*sheets: tuple[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_csv_with_canonical_headers_gives_rows_keyed_by_column():
    assert rows_of(b"kind,room,serial\nlaptop, A101 ,PF3\nprinter,,\n") == [
        (2, {"kind": "laptop", "room": "A101", "serial": "PF3"}),
        (3, {"kind": "printer", "room": "", "serial": ""}),
    ]


@pytest.mark.parametrize("header, column", [
    ("Schule", "school"), ("Raum", "room"), ("Art", "kind"), ("Geräteart", "kind"), ("TYP", "kind"),
    ("Hersteller", "vendor"), ("Modell", "model"), ("Seriennummer", "serial"), ("Serien-Nr.", "serial"),
    ("Inventarnummer", "asset_tag"), ("Inventar-Nr.", "asset_tag"), ("asset tag", "asset_tag"),
    ("Hostname", "hostname"), ("Rechnername", "hostname"), ("MAC", "macs"), ("MAC-Adresse", "macs"),
    ("MAC-Adressen", "macs"), ("MAC-Adresse(n)", "macs"), ("IP", "ip"), ("IP-Adresse", "ip"),
    ("Status", "status"), ("Eltern-Seriennummer", "parent_serial"), ("Kaufdatum", "purchase_date"),
    ("Anschaffungsdatum", "purchase_date"), ("Lieferant", "supplier"), ("Rechnung", "invoice"),
    ("Rechnungsnummer", "invoice"), ("Netto", "price_net"), ("Preis  netto", "price_net"),
    ("Brutto", "price_gross"), ("preis brutto", "price_gross"), ("Förderung", "grant"), ("Zuwendung", "grant"),
    ("Aktenzeichen", "grant"), ("Kategorie", "category"), ("Investitionsart", "category"),
    ("Garantie bis", "warranty_end"), ("Gewährleistung bis", "warranty_end"), ("Bemerkung", "notes"),
    ("Notizen", "notes"), ("  Price_Net ", "price_net"),
])
def test_german_and_spaced_headers_name_their_columns_in_any_case(header, column):
    data = f"{header};kind\nx;laptop\n".encode() if column != "kind" else f"{header}\nlaptop\n".encode()
    assert rows_of(data)[0][1][column] == ("laptop" if column == "kind" else "x")


def test_windows_1252_csv_with_umlauts_loads():
    data = "Art;Raum;Bemerkung\nlaptop;Mensa;Schüler-Gerät, Größe ß\n".encode("cp1252")
    assert rows_of(data) == [(2, {"kind": "laptop", "room": "Mensa", "notes": "Schüler-Gerät, Größe ß"})]


@pytest.mark.parametrize("data", [
    "Art;Bemerkung\nlaptop;Gerät\n".encode(),
    "\ufeffArt;Bemerkung\nlaptop;Gerät\n".encode(),
    "Art,Bemerkung\r\nlaptop,Gerät\r\n".encode("utf-8-sig"),
])
def test_utf8_with_or_without_bom_and_either_delimiter_loads(data):
    assert rows_of(data) == [(2, {"kind": "laptop", "notes": "Gerät"})]


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_an_error():
    assert errors_of(b"kind\nlaptop\n\x81\n") == ["f.csv:3: byte 0x81 is neither UTF-8 nor Windows-1252 text"]


@pytest.mark.parametrize("data, message", [
    (workbook(("Geräte", [["kind"]])), "f.csv: this is a spreadsheet workbook, not CSV text: read it as xlsx"),
    ("kind\nlaptop\n".encode("utf-16"), "f.csv: binary or UTF-16 data, not CSV text: save it as 'CSV UTF-8'"),
])
def test_files_that_are_not_csv_text_are_named_as_such(data, message):
    assert errors_of(data) == [message]


def test_a_header_that_is_one_column_holding_tabs_asks_for_the_delimiter():
    assert errors_of(b"\nkind\troom\nlaptop\tA101\n") == [
        "f.csv:2: could not find the columns in 'kind\troom': is the delimiter , or ;?"]


def test_a_single_known_column_needs_no_delimiter():
    assert rows_of(b"Art\nlaptop\n") == [(2, {"kind": "laptop"})]


def test_the_delimiter_is_the_one_giving_known_columns():
    assert rows_of(b"kind;notes\nlaptop;eins, zwei\n") == [(2, {"kind": "laptop", "notes": "eins, zwei"})]


def test_an_unknown_column_is_named_with_the_known_ones():
    assert errors_of(b"kind;Farbe;room;Gewicht\n") == [
        f"f.csv:1: Farbe: unknown column; known columns: {KNOWN} (German names such as Raum or Seriennummer "
        f"work too)",
        f"f.csv:1: Gewicht: unknown column; known columns: {KNOWN} (German names such as Raum or Seriennummer "
        f"work too)",
    ]


def test_a_missing_kind_column_is_an_error():
    assert errors_of(b"room;serial\nA101;1\n") == [
        "f.csv:1: kind: the required column is missing (also called Art, Geräteart or Typ)"]


def test_two_columns_for_one_field_are_an_error():
    assert errors_of(b"kind;Netto;Preis netto\n") == [
        "f.csv:1: Preis netto: a second column for price_net (the first is 'Netto')"]


def test_an_empty_file_is_an_error():
    assert errors_of(b"\n \n") == ["f.csv: the file is empty: a header row naming the columns comes first"]


def test_rows_with_more_cells_than_the_header_name_their_lines():
    assert errors_of(b"kind;room\nlaptop;A1;x\nlaptop;A2\nlaptop;A3;;y\n") == [
        "f.csv:2: the row has 3 cells but the header only 2 columns",
        "f.csv:4: the row has 4 cells but the header only 2 columns",
    ]


def test_empty_trailing_cells_and_unnamed_empty_columns_are_ignored():
    assert rows_of(b"kind;;room;\nlaptop;;A1;;;\n") == [(2, {"kind": "laptop", "room": "A1"})]


def test_a_value_under_an_unnamed_column_is_an_error():
    assert errors_of(b"kind;;room\nlaptop;x;A1\n") == ["f.csv:2: column 2 has a value but no header"]


def test_line_numbers_are_physical_lines_across_blank_lines_and_multi_line_cells():
    data = b'\nkind;notes\n\nlaptop;"zwei\nZeilen"\n  ;  \nprinter;eins\n'
    assert rows_of(data) == [(4, {"kind": "laptop", "notes": "zwei\nZeilen"}),
                             (7, {"kind": "printer", "notes": "eins"})]


@pytest.mark.parametrize("data, message", [
    (b'kind;notes\nlaptop;"offen\nprinter;x\n', "f.csv:2: unexpected end of data (check the quotes of this row)"),
    (b'kind;notes\nlaptop;ok\nlaptop;"24" Monitor\n',
     "f.csv:3: ';' expected after '\"' (check the quotes of this row)"),
    (b"kind;notes\nlaptop;" + b"x" * 140_000 + b"\n",
     "f.csv:2: field larger than field limit (131072) (check the quotes of this row)"),
])
def test_broken_quoting_is_reported_at_the_line_the_row_starts(data, message):
    assert errors_of(data) == [message]


def test_a_quote_inside_an_unquoted_cell_is_text():
    assert rows_of(b'kind;model\nlaptop;Monitor 24"\n') == [(2, {"kind": "laptop", "model": 'Monitor 24"'})]


def test_xlsx_cells_become_the_text_a_csv_would_hold():
    data = workbook(("Geräte", [
        ["Art", "Seriennummer", "Netto", "Brutto", "Kaufdatum", "Bemerkung"],
        [],
        ["laptop", 12345, 1190.0, 1416.1000000000001, datetime(2020, 9, 1), None],
        ["tablet", 12345.0, 1190.5, 7, date(2021, 2, 3), "  Text  "],
    ]))
    assert rows_of(data, "xlsx", "f.xlsx") == [
        (3, {"kind": "laptop", "serial": "12345", "price_net": "1190", "price_gross": "1416.1",
             "purchase_date": "2020-09-01", "notes": ""}),
        (4, {"kind": "tablet", "serial": "12345", "price_net": "1190.5", "price_gross": "7",
             "purchase_date": "2021-02-03", "notes": "Text"}),
    ]


def test_xlsx_empty_extra_sheets_are_ignored():
    data = workbook(("Tabelle1", []), ("Geräte", [["kind"], ["laptop"]]), ("Tabelle3", [[None, " "]]))
    assert rows_of(data, "xlsx", "f.xlsx") == [(2, {"kind": "laptop"})]


def test_xlsx_with_a_second_sheet_holding_data_says_which_sheet_to_keep():
    data = workbook(("Notizen", [["bitte prüfen"]]), ("Geräte", [["Art"], ["laptop"]]))
    assert errors_of(data, "xlsx", "f.xlsx") == [
        "f.xlsx: the workbook has 2 sheets with data ('Notizen', 'Geräte'); keep only the device list 'Geräte' "
        "and delete the others"]


def test_xlsx_merged_cells_are_refused_naming_each_range():
    book = Workbook()
    sheet = book.active
    sheet.title = "Geräte"
    for row in (["kind", "room"], ["laptop", "A101"], ["laptop", None], ["tablet", "B1"], [None, None]):
        sheet.append(row)
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("A4:B5")
    out = io.BytesIO()
    book.save(out)
    assert errors_of(out.getvalue(), "xlsx", "f.xlsx") == [
        "f.xlsx:2: merged cells B2:B3 in sheet 'Geräte': unmerge them, every cell needs its own value",
        "f.xlsx:4: merged cells A4:B5 in sheet 'Geräte': unmerge them, every cell needs its own value",
    ]


@pytest.mark.parametrize("data, message", [
    (b"kind\nlaptop\n", "f.xlsx: not an XLSX workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
     "f.xlsx: not an XLSX workbook: save the old .xls workbook as .xlsx"),
    (b"PK\x03\x04" + bytes(100), "f.xlsx: not a readable XLSX workbook (File is not a zip file)"),
])
def test_files_that_are_not_xlsx_workbooks_are_named_as_such(data, message):
    assert errors_of(data, "xlsx", "f.xlsx") == [message]


def test_xlsx_header_problems_are_reported_like_csv_ones():
    assert errors_of(workbook(("Geräte", [[None], ["Raum", "Farbe"]])), "xlsx", "f.xlsx") == [
        f"f.xlsx:2: Farbe: unknown column; known columns: {KNOWN} (German names such as Raum or Seriennummer "
        f"work too)",
        "f.xlsx:2: kind: the required column is missing (also called Art, Geräteart or Typ)",
    ]


def record(line: int, **values) -> DeviceRecord:
    fields = {column: None for column in DeviceRecord.__dataclass_fields__}
    return DeviceRecord(**{**fields, "line": line, "lines": (line,), "interfaces": (), **values})


RECORDS = [
    record(2, school="gs-linden", room="A101", kind="laptop", vendor="Lenovo", model="ThinkPad L14",
           serial="00123", asset_tag="INV-1", hostname="a101-nb01",
           interfaces=(InterfaceRecord("aa:bb:cc:dd:ee:01", "lan"), InterfaceRecord("aa:bb:cc:dd:ee:02", "wlan"),
                       InterfaceRecord("aa:bb:cc:dd:ee:03", "mgmt")),
           ip="10.12.1.20", status="active", parent_serial="D-1", purchase_date=date(2020, 9, 1),
           supplier="Systemhaus Nord; Filiale Süd", invoice="R-77", price_net=Decimal("1000.00"),
           price_gross=Decimal("1190.50"), grant="DP-2020-0042", category="mobile", warranty_end=date(2023, 8, 31),
           notes="zwei\nZeilen, \"zitiert\"; =SUMME(A1:A2)"),
    record(3, kind="interactive_display", price_net=Decimal("0.00")),
    record(4, school="gs-linden", kind="other", serial="4711", notes="@home"),
]


@pytest.mark.parametrize("fmt, filename", [("csv", "devices-all.csv"), ("xlsx", "devices-all.xlsx")])
def test_written_records_read_back_equal(fmt, filename):
    data = write_devices([asdict(r) for r in RECORDS], fmt)
    records = parse_records(read_rows(data, fmt, filename), filename)
    assert [replace(r, line=0, lines=()) for r in records] == [replace(r, line=0, lines=()) for r in RECORDS]
    # The first note spans two lines of the CSV; each record keeps the line it starts on.
    assert [r.lines for r in records] == ([(2,), (4,), (5,)] if fmt == "csv" else [(2,), (3,), (4,)])


def test_csv_is_written_for_german_excel():
    data = write_devices([{"kind": "laptop", "price_net": Decimal("1190.5"), "purchase_date": date(2020, 9, 1),
                           "macs": ["aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"]}], "csv", school="gs-linden")
    assert data.decode("utf-8") == (
        "\ufeff" + ";".join(COLUMNS) + "\r\n"
        "gs-linden;;laptop;;;;;;aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02;;;;2020-09-01;;;1190,50;;;;;;\r\n")


def test_an_importer_style_mapping_writes_interface_kinds_from_its_interfaces():
    device = {"kind": "laptop", "macs": ["aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"],
              "interfaces": [{"mac": "aa:bb:cc:dd:ee:01", "kind": "lan", "ip": "10.0.0.1"},
                             {"mac": "aa:bb:cc:dd:ee:02", "kind": "wlan", "ip": None}]}
    (row,) = read_rows(write_devices([device], "csv"), "csv", "f.csv")
    assert row.values["macs"] == "aa:bb:cc:dd:ee:01 aa:bb:cc:dd:ee:02 (wlan)"


def test_xlsx_is_one_sheet_with_typed_cells_and_text_that_stays_text():
    data = write_devices([{"kind": "laptop", "price_net": Decimal("1190.50"), "warranty_end": date(2023, 8, 31),
                           "serial": "00123", "notes": "=1+1"}], "xlsx", school="gs-linden")
    book = load_workbook(io.BytesIO(data))
    (sheet,) = book.worksheets
    header, values = sheet.iter_rows(min_row=1, max_row=2)
    assert [cell.value for cell in header] == list(COLUMNS)
    cells = dict(zip(COLUMNS, values))
    assert cells["school"].value == "gs-linden"
    assert (cells["price_net"].value, cells["price_net"].number_format) == (1190.5, "#,##0.00")
    assert cells["warranty_end"].value == datetime(2023, 8, 31)
    assert (cells["serial"].value, cells["notes"].value, cells["notes"].data_type) == ("00123", "=1+1", "s")


def test_no_records_write_just_the_header():
    assert read_rows(write_devices([], "csv"), "csv", "f.csv") == []
    assert read_rows(write_devices([], "xlsx"), "xlsx", "f.xlsx") == []


@pytest.mark.parametrize("filename, fmt", [
    ("geraete.csv", "csv"), ("Geräte.CSV", "csv"), ("liste.txt", "csv"), ("/tmp/Inventar.xlsx", "xlsx"),
    ("Inventar.XLSM", "xlsx"), ("devices.csv", "linuxmuster"), ("/etc/linuxmuster/sophomorix/gs/gs.devices.csv",
                                                                "linuxmuster"),
    ("export-linuxmuster.csv", "linuxmuster"),
])
def test_the_format_follows_the_file_name(filename, fmt):
    assert detect_format(filename) == fmt


def test_a_name_without_a_known_ending_asks_for_the_format():
    with pytest.raises(FormatError) as caught:
        detect_format("inventar.ods")
    assert caught.value.errors == [
        "inventar.ods: cannot tell the format from the name: give the format (csv, xlsx or linuxmuster)"]


def test_an_unknown_format_is_an_error():
    assert errors_of(b"kind\n", "ods", "f.ods") == ["f.ods: unknown format 'ods' (csv, xlsx or linuxmuster)"]


def test_rows_are_frozen_records_of_their_line():
    row = Row(2, {"kind": "laptop"})
    with pytest.raises(AttributeError):
        row.line = 3
