"""Invoice files → invoice records: headers, German numbers and dates, grouping, and every problem at once."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from inventory.formats.records import FormatError
from provisioning.purchase_files import InvoiceRecord, LineRecord, read_invoices

CANONICAL = "supplier,invoice,invoice_date,paid_date,grant,serial,asset_tag,category,net,gross\n"
GERMAN = "Lieferant;Rechnungsnummer;Rechnungsdatum;Zahlungsdatum;Aktenzeichen;Seriennummer;Inventarnummer;" \
         "Kategorie;Netto;Brutto\n"


def csv(text: str, name: str = "rechnungen.csv") -> list[InvoiceRecord]:
    return read_invoices(text.encode("utf-8"), name)


def problems(text: str, name: str = "rechnungen.csv") -> list[str]:
    with pytest.raises(FormatError) as caught:
        read_invoices(text.encode("utf-8"), name)
    return caught.value.errors


def test_canonical_headers_give_one_invoice_with_typed_values():
    [invoice] = csv(CANONICAL + "Netzwerk GmbH,NSO-17,2024-02-28,2024-03-15,DP-1,S-1,,display,1000.00,1190.00\n")

    assert invoice == InvoiceRecord(2, "Netzwerk GmbH", "NSO-17", date(2024, 2, 28), date(2024, 3, 15), None, None,
                                    (LineRecord(2, "S-1", None, "display", Decimal("1000.00"), Decimal("1190.00"),
                                                "DP-1"),))
    assert invoice.grants == {"DP-1"}


def test_german_headers_dates_and_amounts_are_read_like_the_canonical_ones():
    [invoice] = csv(GERMAN + "Netzwerk GmbH;NSO-17;28.02.2024;15.03.2024;DP-1;;INV-7;Display;1.000,00;1.190,00\n")

    assert (invoice.supplier, invoice.invoice, invoice.invoice_date, invoice.paid_date) == (
        "Netzwerk GmbH", "NSO-17", date(2024, 2, 28), date(2024, 3, 15))
    [line] = invoice.lines
    assert (line.serial, line.asset_tag, line.category, line.net, line.gross, line.grant) == (
        None, "INV-7", "display", Decimal("1000.00"), Decimal("1190.00"), "DP-1")


def test_the_rows_of_one_invoice_become_one_record_with_its_lines_in_file_order():
    records = csv(CANONICAL
                  + "A GmbH,R-1,2024-01-10,,,S-3,,mobile,100,119\n"
                  + "B AG,R-1,2024-01-11,,,S-2,,mobile,200,238\n"
                  + "A GmbH,R-1,2024-01-10,,,S-1,,mobile,300,357\n"
                  + "A GmbH,R-2,2024-01-12,,,S-4,,mobile,400,476\n")

    assert [(record.supplier, record.invoice, record.line) for record in records] == [
        ("A GmbH", "R-1", 2), ("B AG", "R-1", 3), ("A GmbH", "R-2", 5)]
    assert [(line.line, line.serial) for line in records[0].lines] == [(2, "S-3"), (4, "S-1")]


def test_an_invoice_cell_given_on_one_row_only_holds_for_the_whole_invoice():
    [invoice] = csv(CANONICAL + "A GmbH,R-1,2024-01-10,,,S-1,,,100,119\n"
                    + "A GmbH,R-1,2024-01-10,2024-02-01,,S-2,,,100,119\n")

    assert invoice.paid_date == date(2024, 2, 1)


def test_a_row_without_serial_and_asset_tag_is_refused():
    assert problems(CANONICAL + "A GmbH,R-1,2024-01-10,,,,,display,100,119\n") == [
        "rechnungen.csv:2: serial: give the device's serial or its asset tag (Inventarnummer)"]


def test_a_gross_amount_below_the_net_amount_is_refused():
    assert problems(CANONICAL + "A GmbH,R-1,2024-01-10,,,S-1,,display,119.00,100.00\n") == [
        "rechnungen.csv:2: gross: 100.00 is less than the net amount 119.00"]


def test_a_category_outside_the_list_is_refused():
    [message] = problems(CANONICAL + "A GmbH,R-1,2024-01-10,,,S-1,,smartphone,100,119\n")

    assert message.startswith("rechnungen.csv:2: category: 'smartphone' is not a category (choose from ")
    assert "display" in message and "mobile" in message


def test_an_invoice_date_that_differs_between_two_rows_names_both_lines():
    assert problems(CANONICAL + "A GmbH,R-1,2024-01-10,,,S-1,,,100,119\n"
                    + "A GmbH,R-2,2024-01-11,,,S-2,,,100,119\n"
                    + "A GmbH,R-1,2024-01-12,,,S-3,,,100,119\n") == [
        "rechnungen.csv:4: invoice_date: '2024-01-12' differs from '2024-01-10' on line 2 of the same invoice"]


def test_the_same_serial_twice_in_a_file_is_refused_even_on_two_invoices():
    assert problems(CANONICAL + "A GmbH,R-1,2024-01-10,,,S-1,,,100,119\n"
                    + "B AG,R-9,2024-01-11,,,s-1,,,100,119\n") == [
        "rechnungen.csv:3: serial: 's-1' is already on line 2"]


def test_a_missing_required_column_is_named_with_the_header_line():
    [message] = problems("supplier,invoice,serial,net,gross\nA GmbH,R-1,S-1,100,119\n")

    assert message.startswith("rechnungen.csv:1: invoice_date: the required column is missing")


def test_every_problem_of_the_file_is_reported_at_once_with_file_and_line():
    errors = problems(GERMAN
                      + "A GmbH;R-1;31.02.2024;;;S-1;;;100;119\n"
                      + "A GmbH;R-2;01.03.2024;;;S-2;;;abc;119\n"
                      + ";R-3;01.03.2024;;;S-3;;;100;119\n"
                      + "A GmbH;R-4;01.03.2024;;;S-4;;;100;119\n")

    assert errors == [
        "rechnungen.csv:2: invoice_date: '31.02.2024' is not a date (YYYY-MM-DD or TT.MM.JJJJ)",
        "rechnungen.csv:3: net: 'abc' is not an amount (such as 1190.00 or 1.190,00)",
        "rechnungen.csv:4: supplier: required"]


def test_an_empty_file_below_the_header_is_refused():
    assert problems(CANONICAL) == ["rechnungen.csv: no invoice lines below the header"]


def test_an_xlsx_workbook_with_date_and_number_cells_is_read():
    book = Workbook()
    sheet = book.active
    sheet.append(["Lieferant", "Rechnungsnummer", "Rechnungsdatum", "Erstattet am", "Seriennummer", "Netto",
                  "Brutto"])
    sheet.append(["Netzwerk GmbH", "NSO-17", datetime(2024, 2, 28), "10.06.2024", "S-1", 1000, 1190])
    sheet.append(["Netzwerk GmbH", "NSO-17", datetime(2024, 2, 28), None, "S-2", 12.5, 14.88])
    out = io.BytesIO()
    book.save(out)

    [invoice] = read_invoices(out.getvalue(), "rechnungen.xlsx")

    assert (invoice.invoice_date, invoice.reimbursed_date) == (date(2024, 2, 28), date(2024, 6, 10))
    assert [(line.line, line.serial, line.net, line.gross) for line in invoice.lines] == [
        (2, "S-1", Decimal("1000.00"), Decimal("1190.00")), (3, "S-2", Decimal("12.50"), Decimal("14.88"))]


def test_a_file_whose_format_the_name_does_not_tell_is_refused():
    with pytest.raises(FormatError) as caught:
        read_invoices(b"supplier\n", "rechnungen")

    assert caught.value.errors == ["rechnungen: cannot tell the format from the name: give the format (csv or xlsx)"]
