"""The funding report as files for the Verwendungsnachweis: an XLSX workbook (Übersicht, Belegliste, Geräteliste,
Regelprüfung) and the Geräteliste as CSV for German Excel.

Amounts are real number cells formatted `#,##0.00 "€"` and dates real date cells formatted DD.MM.YYYY, so sums in the
spreadsheet work; Excel shows separators as the reader's locale sets them. The CSV is UTF-8 with BOM, ';' between cells,
amounts with a decimal comma and dates as DD.MM.YYYY.
"""

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .report import ZERO, Line, Report, Sums

EURO = '#,##0.00 "€"'
DAY = "DD.MM.YYYY"
MAX_WIDTH = 60
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
NOTES = (
    "Bereits erstattet: 0,00 €, bis Zahlungen des Landes erfasst werden.",
    "Jetzt beantragt: Förderanteil der abgerechneten Geräte (mit Rechnungsnummer) = Fördersatz × förderfähige Kosten "
    "(brutto oder netto, wie das Programm rechnet; nicht förderfähige Posten zählen 0).",
    "Zahlungsdatum: noch nicht erfasst; abgerechnete Geräte gelten als bezahlt.",
    "Netto/Brutto gesamt: alle Geräte der Zuwendung, auch bestellte ohne Rechnung.",
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
    book = Workbook(write_only=True)
    _overview(book, report)
    _receipts(book, report)
    _devices(book, report)
    _findings(book, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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

def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list], formats: list[str | None]):
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for index, header in enumerate(headers):
        width = max([len(header)] + [_shown(row[index]) for row in rows if index < len(row)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, MAX_WIDTH)
    sheet.append([_cell(sheet, header, None, bold=True) for header in headers])
    formatted = [index for index, number_format in enumerate(formats) if number_format]
    for row in rows:
        # Plain values where no format is needed: a styled cell costs several times as much to write.
        row = list(row)
        for index in formatted:
            if index < len(row) and row[index] is not None:
                row[index] = _cell(sheet, row[index], formats[index])
        for index, value in enumerate(row):
            if type(value) is str and value.startswith("="):
                row[index] = _cell(sheet, value, None)  # a device field such as '=SUM(...)' stays text
        sheet.append(row)
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    return sheet


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


def _overview(book: Workbook, report: Report) -> None:
    headers = ["Aktenzeichen", "Programm", "Kategorie", "Geräte", "Bereits erstattet", "Jetzt beantragt", "Summe",
               "Brutto abgerechnet", "Netto gesamt", "Brutto gesamt"]
    programmes = {figures.grant.ref: figures.grant.programme for figures in report.grants}
    rows = [[ref, programmes.get(ref), CATEGORIES.get(category, category), *_figures(sums)]
            for (ref, category), sums in report.by_category.items()]
    rows.append(["Summe", None, None, *_figures(report.total())])
    formats = [None, None, None, "0", EURO, EURO, EURO, EURO, EURO, EURO]
    sheet = _sheet(book, "Übersicht", headers, rows, formats)
    sheet.append([])
    for note in NOTES:
        cell = WriteOnlyCell(sheet, note)
        cell.alignment = Alignment(wrap_text=False)
        sheet.append([cell])


def _figures(sums: Sums) -> list:
    return [sums.devices, ZERO, sums.requested_now, sums.requested_now, sums.invoiced_gross, sums.net, sums.gross]


def _receipts(book: Workbook, report: Report) -> None:
    headers = ["Aktenzeichen", "Datum", "Zahlungsempfänger", "Rechnungsnummer", "Verwendungszweck", "Geräte", "Netto",
               "Betrag (brutto)"]
    rows = [[r.grant, r.invoice_date, r.supplier, r.invoice, r.purpose, r.devices, r.net, r.gross]
            for r in report.receipts]
    _sheet(book, "Belegliste", headers, rows, [None, DAY, None, None, None, "0", EURO, EURO])


def _devices(book: Workbook, report: Report) -> None:
    rows = [[report.carrier if index == 0 else column.value(line) for index, column in enumerate(DEVICE_COLUMNS)]
            for line in report.lines]
    _sheet(book, "Geräteliste", [column.header for column in DEVICE_COLUMNS], rows,
           [column.format for column in DEVICE_COLUMNS])


def _findings(book: Workbook, report: Report) -> None:
    headers = ["Regel", "Schwere", "Schule", "Aktenzeichen", "Feststellung", "Geräte"]
    rows = [[f.rule, SEVERITIES.get(f.severity, f.severity), f.school, f.grant, f.de, len(f.items) or None]
            for f in report.findings]
    _sheet(book, "Regelprüfung", headers, rows, [None, None, None, None, None, "0"])
