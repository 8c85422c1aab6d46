"""CSV and XLSX device files: a header row naming the columns, then one device per row.

Headers may use the canonical column names or the German ones spreadsheets carry (Raum, Seriennummer, ...),
in any order and case; only the kind column is required. CSV is read as UTF-8 (with or without BOM) or
Windows-1252, separated by ',' or ';'. CSV is written the way German Excel opens it directly: UTF-8 with BOM,
';' between cells, amounts with a decimal comma, dates as YYYY-MM-DD. The macs cell lists MACs separated by
spaces; a MAC of a wireless or management interface is followed by '(wlan)' or '(mgmt)'.
"""

import csv
import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .records import COLUMNS, FormatError, Row, interfaces_of

_GERMAN_NAMES = {
    "school": ("Schule",),
    "room": ("Raum", "Raumnummer"),
    "kind": ("Art", "Geräteart", "Typ", "Gerätetyp", "device kind"),
    "vendor": ("Hersteller", "manufacturer"),
    "model": ("Modell",),
    "serial": ("Seriennummer", "Serien-Nr.", "Seriennr.", "serial number"),
    "asset_tag": ("Inventarnummer", "Inventar-Nr.", "Inventarnr.", "inventory number"),
    "hostname": ("Rechnername", "Gerätename"),
    "macs": ("MAC", "MAC-Adresse", "MAC-Adressen", "MAC-Adresse(n)", "mac address", "mac addresses"),
    "ip": ("IP-Adresse", "ip address"),
    "parent_serial": ("Eltern-Seriennummer",),
    "purchase_date": ("Kaufdatum", "Anschaffungsdatum"),
    "supplier": ("Lieferant",),
    "invoice": ("Rechnung", "Rechnungsnummer", "Rechnungs-Nr."),
    "price_net": ("Netto", "Preis netto", "Nettopreis"),
    "price_gross": ("Brutto", "Preis brutto", "Bruttopreis"),
    "grant": ("Förderung", "Zuwendung", "Aktenzeichen"),
    "category": ("Kategorie", "Investitionsart"),
    "warranty_end": ("Garantie bis", "Gewährleistung bis", "Garantieende"),
    "commissioned": ("Inbetriebnahme", "In Betrieb seit", "commissioning date"),
    "notes": ("Bemerkung", "Bemerkungen", "Notizen", "Notiz"),
}


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("_", " ").split())


@dataclass(frozen=True)
class Layout:
    """What a table file holds: its canonical columns, the other names a header may give them, the columns every
    file needs (with the hint its error gives) and what one row is."""

    row: str
    columns: tuple[str, ...]
    names: Mapping[str, tuple[str, ...]]
    required: Mapping[str, str]
    example: str

    @cached_property
    def aliases(self) -> dict[str, str]:
        return {_key(name): column for column in self.columns for name in (column, *self.names.get(column, ()))}


DEVICES = Layout("device", COLUMNS, _GERMAN_NAMES, {"kind": "also called Art, Geräteart or Typ"},
                 "German names such as Raum or Seriennummer work too")
_MONEY = ("price_net", "price_gross")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def header_columns(cells: Iterable[str], layout: Layout = DEVICES) -> list[str | None]:
    """The canonical column each header cell names, None where it names none."""
    return [layout.aliases.get(_key(cell)) for cell in cells]


def decode_text(data: bytes, filename: str) -> str:
    """File bytes → text: UTF-8 (a BOM is dropped), else Windows-1252 as German spreadsheets write it."""
    if data.startswith(b"PK\x03\x04") or data.startswith(_OLE_MAGIC):
        raise FormatError([f"{filename}: this is a spreadsheet workbook, not CSV text: read it as xlsx"])
    if b"\x00" in data:
        raise FormatError([f"{filename}: binary or UTF-16 data, not CSV text: save it as 'CSV UTF-8'"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError([f"{filename}:{line}: byte 0x{data[error.start]:02x} is neither UTF-8 nor "
                           f"Windows-1252 text"]) from None


def _rows(table: Iterable[tuple[int, list[str]]], filename: str, layout: Layout = DEVICES) -> list[Row]:
    """(line, cells) with a header first → rows keyed by canonical column; every problem is collected."""
    lines = ((line, [cell.strip() for cell in cells]) for line, cells in table)
    header_line, header = next(((line, cells) for line, cells in lines if any(cells)), (1, []))
    if not header:
        raise FormatError([f"{filename}: the file is empty: a header row naming the columns comes first"])
    columns = header_columns(header, layout)
    errors = []
    for index, (name, column) in enumerate(zip(header, columns)):
        if name and column is None:
            errors.append(f"{filename}:{header_line}: {name}: unknown column; known columns: "
                          f"{', '.join(layout.columns)} ({layout.example})")
        elif column and columns.index(column) != index:
            errors.append(f"{filename}:{header_line}: {name}: a second column for {column} "
                          f"(the first is '{header[columns.index(column)]}')")
    for column, hint in layout.required.items():
        if column not in columns:
            errors.append(f"{filename}:{header_line}: {column}: the required column is missing ({hint})")
    if errors:
        raise FormatError(errors)
    rows = []
    for line, cells in lines:
        filled = [index for index, cell in enumerate(cells) if cell]
        if not filled:
            continue
        if filled[-1] >= len(header):
            errors.append(f"{filename}:{line}: the row has {filled[-1] + 1} cells but the header only "
                          f"{len(header)} columns")
        unnamed = [index + 1 for index in filled if index < len(header) and not header[index]]
        if unnamed:
            errors.append(f"{filename}:{line}: column {unnamed[0]} has a value but no header")
        rows.append(Row(line, {column: cells[index] if index < len(cells) else ""
                               for index, column in enumerate(columns) if column}))
    if errors:
        raise FormatError(errors)
    return rows


def _delimiter(text: str, filename: str, layout: Layout) -> str:
    """',' or ';', whichever splits the header line into more known columns."""
    number, first = next(((n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()), (1, ""))

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first], delimiter=delimiter), [])
        return sum(column is not None for column in header_columns(cells, layout)), len(cells)

    best = max((";", ","), key=score)
    known, count = score(best)
    if count == 1 and not known and first.strip():
        raise FormatError([f"{filename}:{number}: could not find the columns in '{first.strip()[:60]}': "
                           f"is the delimiter , or ;?"])
    return best


def read_csv(data: bytes, filename: str, layout: Layout = DEVICES) -> list[Row]:
    """A CSV file → rows; line numbers are physical lines, also around cells spanning several lines."""
    text = decode_text(data, filename)
    # strict: an unclosed quote would otherwise swallow every following line into one cell without a word.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, filename, layout),
                        strict=True)
    table, start = [], 1
    try:
        for cells in reader:
            table.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise FormatError([f"{filename}:{start}: {error} (check the quotes of this row)"]) from None
    return _rows(table, filename, layout)


def _cell_text(value: object) -> str:
    """An XLSX cell value → the text a CSV would have held."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        # Excel keeps numbers as floats: 12345.0 is the serial 12345, and 1416.1000000000001 is 1416.1.
        # Fifteen significant digits is what Excel itself shows: 987654.32, not 987654.3199999999.
        return str(int(value)) if value.is_integer() else format(Decimal(f"{value:.15g}"), "f")
    return str(value)


def read_xlsx(data: bytes, filename: str, layout: Layout = DEVICES) -> list[Row]:
    """The single sheet of an XLSX workbook → rows; merged cells and a second sheet with data are refused."""
    if not data.startswith(b"PK\x03\x04"):
        hint = ": save the old .xls workbook as .xlsx" if data.startswith(_OLE_MAGIC) else ""
        raise FormatError([f"{filename}: not an XLSX workbook{hint}"])
    try:
        # openpyxl warns about workbook features it drops (data validation, some styles); only values matter here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Not read_only: merged ranges are only visible to a full load, and a second pass would double the time.
            book = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as error:  # a damaged archive fails in many ways, each of them a bad upload
        raise FormatError([f"{filename}: not a readable XLSX workbook ({error})"]) from None
    tables = {sheet.title: [(number, [_cell_text(value) for value in values])
                            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
              for sheet in book.worksheets}
    filled = [title for title, table in tables.items() if any(cell.strip() for _, cells in table for cell in cells)]
    if len(filled) > 1:
        wanted = set(layout.required)
        keep = next((title for title in filled if wanted <= set(header_columns(_first_row(tables[title]), layout))),
                    filled[0])
        names = ", ".join(f"'{title}'" for title in filled)
        raise FormatError([f"{filename}: the workbook has {len(filled)} sheets with data ({names}); keep only the "
                           f"{layout.row} list '{keep}' and delete the others"])
    title = filled[0] if filled else book.worksheets[0].title
    merged = sorted(book[title].merged_cells.ranges, key=lambda cells: (cells.min_row, cells.min_col))
    if merged:
        raise FormatError([f"{filename}:{cells.min_row}: merged cells {cells.coord} in sheet '{title}': "
                           f"unmerge them, every cell needs its own value" for cells in merged])
    return _rows(tables[title], filename, layout)


def _first_row(table: list[tuple[int, list[str]]]) -> list[str]:
    return next((cells for _, cells in table if any(cell.strip() for cell in cells)), [])


def _macs_text(device: Mapping[str, object]) -> str:
    return " ".join(i.mac if i.kind == "lan" else f"{i.mac} ({i.kind})" for i in interfaces_of(device))


def _plain(device: Mapping[str, object], column: str, school: str | None) -> object:
    """The value of one column, with the macs cell spelled out and an empty school filled in."""
    if column == "macs":
        return _macs_text(device)
    value = device.get(column)
    if column == "school" and not value:
        value = school
    return "" if value is None else value


def write_csv(devices: Iterable[Mapping[str, object]], school: str | None = None) -> bytes:
    """Devices → CSV for German Excel: UTF-8 with BOM, ';', decimal comma, ISO dates."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(COLUMNS)
    for device in devices:
        cells = []
        for column in COLUMNS:
            value = _plain(device, column, school)
            if isinstance(value, (Decimal, int, float)) and column in _MONEY:
                value = f"{Decimal(str(value)):.2f}".replace(".", ",")
            elif isinstance(value, date):
                value = value.isoformat()
            cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(devices: Iterable[Mapping[str, object]], school: str | None = None) -> bytes:
    """Devices → an XLSX workbook with one sheet, dates and amounts as real date and number cells."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Geräte")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 30 if column in ("notes", "macs") else 16
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, column)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    count = 0
    for device in devices:
        cells = []
        for column in COLUMNS:
            value = _plain(device, column, school)
            if not isinstance(value, (Decimal, int, float, date)):
                value = str(value) or None
            cell = WriteOnlyCell(sheet, value)
            if column in _MONEY and cell.data_type == "n":
                cell.number_format = "#,##0.00"
            elif isinstance(value, date):
                cell.number_format = "YYYY-MM-DD"
            elif cell.data_type == "f":
                cell.data_type = "s"  # text such as '=SUM(...)' in a note stays text, never a formula
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
