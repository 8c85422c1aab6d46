"""The funding report as files for the Verwendungsnachweis: an XLSX workbook (Übersicht, Belegliste, Geräteliste,
Regelprüfung) and the Geräteliste as CSV for German Excel.

Amounts are real number cells formatted `#,##0.00 "€"` and dates real date cells formatted DD.MM.YYYY, so sums in the
spreadsheet work; Excel shows separators as the reader's locale sets them. The CSV is UTF-8 with BOM, ';' between cells,
amounts with a decimal comma and dates as DD.MM.YYYY.
"""

import csv
import io
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .report import ZERO, Line, Report, Sums, gc_paused

EURO = '#,##0.00 "€"'
DAY = "DD.MM.YYYY"
MAX_WIDTH = 60
COMPRESSION = 6  # zlib level of the workbook's parts
BOLD = Font(bold=True)

CATEGORIES = {"network": "Vernetzung (LAN)", "wlan": "WLAN", "server": "Server", "platform": "Lernplattform",
              "display": "Anzeige- und Interaktionsgeräte", "work_equipment": "Digitale Arbeitsgeräte",
              "mobile": "Mobile Endgeräte", "": "ohne Kategorie"}
KINDS = {"interactive_display": "Interaktives Display", "projector": "Beamer", "document_camera": "Dokumentenkamera",
         "laptop": "Laptop", "tablet": "Tablet", "desktop": "PC", "ops_pc": "Einschub-PC (OPS)",
         "access_point": "WLAN-Access-Point", "switch": "Switch", "router": "Router", "printer": "Drucker",
         "server": "Server", "other": "Sonstiges"}
STATUSES = {"planned": "geplant", "ordered": "bestellt", "in_stock": "auf Lager", "active": "in Betrieb",
            "loaned": "verliehen", "repair": "in Reparatur", "missing": "vermisst", "retired": "ausgesondert"}
SCHOOL_TYPES = {"general": "allgemeinbildend", "vocational": "berufsbildend"}
SEVERITIES = {"error": "Fehler", "risk": "Rückforderungsrisiko", "warning": "Hinweis"}
CUT = "Kürzung auf den bewilligten Betrag"
NOTES = (
    "Bereits erstattet: Förderanteil der Geräte, deren Rechnung das Land schon erstattet hat (Erstattungsdatum).",
    "Jetzt beantragt: Förderanteil der übrigen abgerechneten Geräte (mit Rechnungsnummer) = Fördersatz × "
    "förderfähige Kosten (brutto oder netto, wie das Programm rechnet; nicht förderfähige Posten zählen 0).",
    "Zahlungsdatum: wie die erfasste Rechnung es nennt; leer, solange keine Zahlung erfasst ist.",
    "Netto/Brutto gesamt: alle Geräte der Zuwendung, auch bestellte ohne Rechnung.",
    f"{CUT}: der Förderanteil, den der Bescheid nicht mehr deckt; ihn trägt der Träger aus eigenen Mitteln.",
)


class Column(NamedTuple):
    header: str
    value: Callable[[Line], object]
    format: str | None = None


def _make_model(line: Line) -> str | None:
    return " ".join(part for part in (line.vendor, line.model) if part) or None


DEVICE_COLUMNS = (
    Column("Träger", lambda line: None),  # filled with the carrier's name
    Column("Aktenzeichen", lambda line: line.grant),
    Column("Bewilligt am", lambda line: line.grant_date, DAY),
    Column("Schulnummer", lambda line: line.school_number),
    Column("Schule", lambda line: line.school),
    Column("Schulform", lambda line: SCHOOL_TYPES.get(line.school_type, line.school_type)),
    Column("Raum", lambda line: line.room),
    Column("Kategorie", lambda line: CATEGORIES.get(line.category or "", line.category)),
    Column("Gegenstand", lambda line: KINDS.get(line.kind, line.kind)),
    Column("Hersteller/Modell", _make_model),
    Column("Anzahl", lambda line: line.quantity, "0"),
    Column("Seriennummer", lambda line: line.serial),
    Column("Inventarnummer", lambda line: line.asset_tag),
    Column("Lieferant", lambda line: line.supplier),
    Column("Rechnungsnummer", lambda line: line.invoice),
    Column("Rechnungsdatum", lambda line: line.invoice_date, DAY),
    Column("Zahlungsdatum", lambda line: line.payment_date, DAY),
    Column("Netto", lambda line: line.net, EURO),
    Column("Brutto", lambda line: line.gross, EURO),
    Column("Förderfähiger Anteil", lambda line: line.eligible_share, EURO),
    Column("Bereits erstattet", lambda line: line.reimbursed, EURO),
    Column("Jetzt beantragt", lambda line: line.requested_now, EURO),
    Column("Inbetriebnahme", lambda line: line.commissioned, DAY),
    Column("Zweckbindung bis", lambda line: line.earmark_end, DAY),
    Column("Status", lambda line: STATUSES.get(line.status, line.status)),
    Column("Geräte-ID", lambda line: line.device, "0"),
)


def write_xlsx(report: Report) -> bytes:
    """The workbook: Übersicht, Belegliste, Geräteliste, Regelprüfung."""
    with gc_paused():
        return _workbook(report)


def _workbook(report: Report) -> bytes:
    book = Workbook(write_only=True)
    tables = [section(book, report) for section in (_overview, _receipts, _devices, _findings)]
    out = io.BytesIO()
    book.save(out)
    return _with_rows(out.getvalue(), {sheet.path.lstrip("/"): rows for sheet, rows in tables})


def write_csv(report: Report) -> bytes:
    """The Geräteliste for German Excel: UTF-8 with BOM, ';', decimal comma, DD.MM.YYYY."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([column.header for column in DEVICE_COLUMNS])
    for line in report.lines:
        writer.writerow([_text(report.carrier if index == 0 else column.value(line), column.format)
                         for index, column in enumerate(DEVICE_COLUMNS)])
    return out.getvalue().encode("utf-8-sig")


def _text(value, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    return str(value)


# The sheets. Every table starts with a bold, frozen header row; widths follow the longest text of a column.
#
# openpyxl (even write-only) spends ~10 µs per cell building XML elements; a Geräteliste of 48,000 devices has 1.2 M
# cells. So openpyxl writes the workbook's frame (styles, header rows, frozen panes, widths, filters) and the table
# rows are written here as the same <row>/<c> XML openpyxl writes (inline strings, numbers with a style id per
# column), then put into each sheet's <sheetData> when the workbook is saved (write_xlsx, _with_rows).

def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list], formats: list[str | None],
           trailer: tuple[str, ...] = ()) -> tuple[object, list[str]]:
    """A sheet with bold frozen headers, and the XML of its rows in their number formats, then of trailer lines in
    column A (not in the widths, the filter or the table)."""
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_widths(headers, rows)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, MAX_WIDTH)
    sheet.append([_cell(sheet, header, None, bold=True) for header in headers])
    styles = [_cell(sheet, 0, number_format).style_id if number_format else 0 for number_format in formats]
    xml = _rows_xml(rows, styles, 2)
    if trailer:
        xml.extend(_rows_xml([[line] for line in trailer], [0], len(rows) + 3))  # after one empty row
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    return sheet, xml


def _widths(headers: list[str], rows: list[list]) -> list[int]:
    """Per column, the characters its widest entry takes on screen (header included)."""
    widths = [len(header) for header in headers]
    width = max((len(row) for row in rows), default=0)
    if any(len(row) != width for row in rows):
        rows = [list(row) + [None] * (width - len(row)) for row in rows]
    for index, column in enumerate(zip(*rows)):
        values = set(column)
        values.discard(None)
        try:
            shown = max(map(len, values), default=0)  # text only
        except TypeError:
            try:  # numbers or dates only: a number's width grows with its size, the extremes suffice
                shown = max(_shown(max(values)), _shown(min(values)))
            except TypeError:
                shown = max(map(_shown, values))
        if index < len(widths):
            widths[index] = max(widths[index], shown)
        else:
            widths.append(shown)
    return widths


def _shown(value) -> int:
    """Characters the value takes on screen in its format (for the column width)."""
    if value is None:
        return 0
    if type(value) is str:
        return len(value)
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 2
    if isinstance(value, date):
        return 10
    return len(str(value))


def _cell(sheet, value, number_format: str | None, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    if cell.data_type == "f":
        cell.data_type = "s"  # text such as '=SUM(...)' from a device field stays text, never a formula
    if number_format and value is not None:
        cell.number_format = number_format
    if bold:
        cell.font = BOLD
    return cell


EPOCH = date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (as openpyxl writes dates)
LETTERS = [get_column_letter(index) for index in range(1, 703)]


def _rows_xml(rows: list[list], styles: list[int], first: int) -> list[str]:
    """The rows as sheet XML from row number first on: None is no cell, text an inline string (never a formula),
    numbers and dates number cells; the style id per column carries the number format."""
    width = max((len(row) for row in rows), default=0)
    attrs = [f' s="{style}"' if style else "" for style in styles] + [""] * max(0, width - len(styles))
    # Per column, the cell XML after its reference for each text and day seen: devices share many of them.
    seen: list[dict] = [{} for _ in range(width)]
    out = []
    for number, row in enumerate(rows, first):
        cells = []
        for index, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is str or kind is date:
                tail = seen[index].get(value)
                if tail is None:
                    tail = seen[index][value] = _tail(value, attrs[index])
            elif kind is Decimal:
                tail = f'{attrs[index]} t="n"><v>{value:f}</v></c>'
            elif kind is int:
                tail = f'{attrs[index]} t="n"><v>{value}</v></c>'
            else:
                tail = _tail(value, attrs[index])
            if tail:
                cells.append(f'<c r="{LETTERS[index]}{number}"{tail}')
        out.append(f'<row r="{number}">{"".join(cells)}</row>')
    return out


def _tail(value, attrs: str) -> str:
    """A cell's XML after its reference (empty for no cell)."""
    if isinstance(value, bool):
        return f'{attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'{attrs} t="n"><v>{value if not isinstance(value, Decimal) else format(value, "f")}</v></c>'
    if isinstance(value, datetime):
        delta = value - datetime(1899, 12, 30)
        return f'{attrs} t="n"><v>{delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000!r}</v></c>'
    if isinstance(value, date):
        return f'{attrs} t="n"><v>{(value - EPOCH).days}</v></c>'
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if not text:
        return ""
    space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
    return f'{attrs} t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


def _with_rows(data: bytes, sheets: dict[str, list[str]]) -> bytes:
    """The saved workbook with each sheet's rows (path → row XML) put at the end of its <sheetData>."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            rows = sheets.get(info.filename)
            if rows:
                text = content.decode("utf-8")
                if "<sheetData />" in text:
                    text = text.replace("<sheetData />", "<sheetData></sheetData>", 1)
                head, tail = text.rsplit("</sheetData>", 1)
                content = "".join([head, *rows, "</sheetData>", tail]).encode("utf-8")
            target.writestr(info.filename, content)
    return out.getvalue()


def _overview(book: Workbook, report: Report) -> tuple:
    headers = ["Aktenzeichen", "Programm", "Kategorie", "Geräte", "Bereits erstattet", "Jetzt beantragt", "Summe",
               "Brutto abgerechnet", "Netto gesamt", "Brutto gesamt"]
    grants = {figures.grant.ref: figures for figures in report.grants}
    rows, cuts, items = [], ZERO, list(report.by_category.items())
    for index, ((ref, category), sums) in enumerate(items):
        rows.append([ref, grants[ref].grant.programme if ref in grants else None, CATEGORIES.get(category, category),
                     *_figures(sums)])
        last_of_grant = index + 1 == len(items) or items[index + 1][0][0] != ref
        if last_of_grant and ref in grants and grants[ref].cut:
            # The notice caps the payout: what its amount does not cover is not requested.
            cut = grants[ref].cut
            cuts += cut
            rows.append([ref, grants[ref].grant.programme, CUT, None, None, -cut, -cut, None, None, None])
    total = _figures(report.total())
    total[2] -= cuts
    total[3] -= cuts
    rows.append(["Summe", None, None, *total])
    formats = [None, None, None, "0", EURO, EURO, EURO, EURO, EURO, EURO]
    return _sheet(book, "Übersicht", headers, rows, formats, trailer=NOTES)


def _figures(sums: Sums) -> list:
    return [sums.devices, sums.reimbursed, sums.requested_now, sums.reimbursed + sums.requested_now,
            sums.invoiced_gross, sums.net, sums.gross]


def _receipts(book: Workbook, report: Report) -> tuple:
    headers = ["Aktenzeichen", "Datum", "Zahlungsempfänger", "Rechnungsnummer", "Verwendungszweck", "Geräte", "Netto",
               "Betrag (brutto)", "Bezahlt am"]
    rows = [[r.grant, r.invoice_date, r.supplier, r.invoice, r.purpose, r.devices, r.net, r.gross, r.paid_date]
            for r in report.receipts]
    return _sheet(book, "Belegliste", headers, rows, [None, DAY, None, None, None, "0", EURO, EURO, DAY])


def _devices(book: Workbook, report: Report) -> tuple:
    rows = [[report.carrier if index == 0 else column.value(line) for index, column in enumerate(DEVICE_COLUMNS)]
            for line in report.lines]
    return _sheet(book, "Geräteliste", [column.header for column in DEVICE_COLUMNS], rows,
           [column.format for column in DEVICE_COLUMNS])


def _findings(book: Workbook, report: Report) -> tuple:
    headers = ["Regel", "Schwere", "Schule", "Aktenzeichen", "Feststellung", "Geräte"]
    rows = [[f.rule, SEVERITIES.get(f.severity, f.severity), f.school, f.grant, f.de, len(f.items) or None]
            for f in report.findings]
    return _sheet(book, "Regelprüfung", headers, rows, [None, None, None, None, None, "0"])
