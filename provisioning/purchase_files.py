"""Invoice files (CSV or XLSX) → validated invoice records, one row per invoiced device.

A row names its invoice (supplier, invoice number, invoice date, and where known the payment date, the date the Land
reimbursed the funded share, and the grant) and one device by serial or Inventarnummer, with its category and its net
and gross amount. The invoice's own cells repeat on each of its rows and must agree. Headers may use the canonical
names or the German ones (Lieferant, Rechnungsnummer, Rechnungsdatum, Zahlungsdatum, Seriennummer, Netto, Brutto ...).
Every problem of a file is reported at once, each as '<file>:<line>: <column>: <message>'.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import PurePath

from inventory.enums import FundingCategory
from inventory.formats.records import FormatError, Row, date_cell, money_cell
from inventory.formats.tabular import Layout, read_csv, read_xlsx

COLUMNS = ("supplier", "invoice", "invoice_date", "paid_date", "reimbursed_date", "grant", "serial", "asset_tag",
           "category", "net", "gross", "note")
NAMES = {
    "supplier": ("Lieferant", "Zahlungsempfänger", "Firma"),
    "invoice": ("Rechnungsnummer", "Rechnungs-Nr.", "Rechnungsnr.", "Rechnung", "invoice number"),
    "invoice_date": ("Rechnungsdatum", "Belegdatum", "invoice date"),
    "paid_date": ("Zahlungsdatum", "Bezahlt am", "Zahlung am", "paid", "payment date"),
    "reimbursed_date": ("Erstattet am", "Erstattungsdatum", "Mittelabruf erstattet", "reimbursed"),
    "grant": ("Aktenzeichen", "Förderung", "Zuwendung"),
    "serial": ("Seriennummer", "Serien-Nr.", "Seriennr.", "serial number"),
    "asset_tag": ("Inventarnummer", "Inventar-Nr.", "Inventarnr.", "inventory number"),
    "category": ("Kategorie", "Investitionsart"),
    "net": ("Netto", "Nettobetrag", "Betrag netto", "net amount"),
    "gross": ("Brutto", "Bruttobetrag", "Betrag brutto", "gross amount"),
    "note": ("Bemerkung", "Bemerkungen", "Notiz"),
}
LAYOUT = Layout("invoice line", COLUMNS, NAMES,
                {"supplier": "also called Lieferant", "invoice": "also called Rechnungsnummer",
                 "invoice_date": "also called Rechnungsdatum", "net": "also called Netto",
                 "gross": "also called Brutto"},
                "German names such as Lieferant, Rechnungsnummer or Seriennummer work too")
LIMITS = {"supplier": 120, "invoice": 80, "grant": 60, "serial": 80, "asset_tag": 40, "note": 2000}
INVOICE_CELLS = ("invoice_date", "paid_date", "reimbursed_date", "note")  # one value per invoice
CATEGORIES = {category.value for category in FundingCategory}


@dataclass(frozen=True)
class LineRecord:
    """One invoiced device, named by serial or Inventarnummer (or, from the API, by device id)."""

    line: int
    serial: str | None
    asset_tag: str | None
    category: str | None
    net: Decimal
    gross: Decimal
    grant: str | None = None
    device: int | None = None

    @property
    def name(self) -> str:
        """How the line names its device, for messages."""
        if self.device is not None:
            return f"device {self.device}"
        return f"serial '{self.serial}'" if self.serial else f"asset tag '{self.asset_tag}'"


@dataclass(frozen=True)
class InvoiceRecord:
    """One invoice with its lines; line is where it first appears."""

    line: int
    supplier: str
    invoice: str
    invoice_date: date
    paid_date: date | None
    reimbursed_date: date | None
    note: str | None
    lines: tuple[LineRecord, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.supplier, self.invoice)

    @property
    def grants(self) -> set[str]:
        return {line.grant for line in self.lines if line.grant}


def detect_format(filename: str) -> str:
    """csv or xlsx, from the file name."""
    name = PurePath(filename).name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FormatError([f"{filename}: cannot tell the format from the name: give the format (csv or xlsx)"])


def read_invoices(data: bytes, filename: str, fmt: str | None = None) -> list[InvoiceRecord]:
    """File bytes → invoice records in the order the file first names them; FormatError lists every bad cell."""
    fmt = fmt or detect_format(filename)
    if fmt not in ("csv", "xlsx"):
        raise FormatError([f"{filename}: unknown format '{fmt}' (csv or xlsx)"])
    rows = read_xlsx(data, filename, LAYOUT) if fmt == "xlsx" else read_csv(data, filename, LAYOUT)
    return parse_invoices(rows, filename)


def parse_invoices(rows: list[Row], filename: str) -> list[InvoiceRecord]:
    """Rows → invoice records; every row's problems are collected before anything is refused."""
    errors: list[str] = []
    groups: dict[tuple[str, str], list[tuple[Row, dict]]] = {}
    for row in rows:
        cells, problems = _parse_row(row)
        errors.extend(f"{filename}:{row.line}: {column}: {message}" for column, message in problems)
        if not problems:
            groups.setdefault((cells["supplier"], cells["invoice"]), []).append((row, cells))
    if not rows:
        errors.append(f"{filename}: no invoice lines below the header")
    errors.extend(_disagreements(groups, filename))
    errors.extend(_twice(groups, filename))
    if errors:
        raise FormatError(errors)
    return [_invoice(group) for group in groups.values()]


def _parse_row(row: Row) -> tuple[dict, list[tuple[str, str]]]:
    values, cells, problems = row.values, {}, []
    for column in COLUMNS:
        text = values.get(column, "")
        if not text:
            cells[column] = None
            continue
        try:
            if column in ("invoice_date", "paid_date", "reimbursed_date"):
                cells[column] = date_cell(column, text)
            elif column in ("net", "gross"):
                cells[column] = money_cell(column, text)
            elif column == "category":
                if text.lower() not in CATEGORIES:
                    raise ValueError(f"'{text}' is not a category (choose from {', '.join(sorted(CATEGORIES))})")
                cells[column] = text.lower()
            else:
                if len(text) > LIMITS[column]:
                    raise ValueError(f"longer than {LIMITS[column]} characters")
                cells[column] = text
        except ValueError as error:
            problems.append((column, str(error)))
    for column in ("supplier", "invoice", "invoice_date", "net", "gross"):
        if not values.get(column):
            problems.append((column, "required"))
    if not values.get("serial") and not values.get("asset_tag"):
        problems.append(("serial", "give the device's serial or its asset tag (Inventarnummer)"))
    net, gross = cells.get("net"), cells.get("gross")
    if net is not None and gross is not None and gross < net:
        problems.append(("gross", f"{gross} is less than the net amount {net}"))
    return cells, problems


def _disagreements(groups: dict, filename: str) -> list[str]:
    """An invoice's own cells must be the same on each of its rows (an empty cell counts as not given)."""
    errors = []
    for rows in groups.values():
        for column in INVOICE_CELLS:
            given = [(row, cells[column]) for row, cells in rows if cells[column] is not None]
            if given and any(value != given[0][1] for _, value in given):
                first_row, first = given[0]
                for row, value in given:
                    if value != first:
                        errors.append(f"{filename}:{row.line}: {column}: '{value}' differs from '{first}' on line "
                                      f"{first_row.line} of the same invoice")
    return errors


def _twice(groups: dict, filename: str) -> list[str]:
    """A device is on one line of one invoice at most."""
    errors, seen = [], {}
    for rows in groups.values():
        for row, cells in rows:
            for column in ("serial", "asset_tag"):
                value = cells[column]
                if value is None:
                    continue
                first = seen.setdefault((column, value.casefold()), row.line)
                if first != row.line:
                    errors.append(f"{filename}:{row.line}: {column}: '{value}' is already on line {first}")
    return errors


def _invoice(rows: list[tuple[Row, dict]]) -> InvoiceRecord:
    first_row, first = rows[0]

    def shared(column: str):
        return next((cells[column] for _, cells in rows if cells[column] is not None), None)

    lines = tuple(LineRecord(row.line, cells["serial"], cells["asset_tag"], cells["category"], cells["net"],
                             cells["gross"], cells["grant"]) for row, cells in rows)
    return InvoiceRecord(first_row.line, first["supplier"], first["invoice"], shared("invoice_date"),
                         shared("paid_date"), shared("reimbursed_date"), shared("note"), lines)
