"""The demo carrier's invoices: one per supplier and invoice number its generated fleet carries, paid some weeks
after the invoice date and, for funded devices, reimbursed by the Land in quarterly rounds; recorded through the
same invoice file format and import as a real carrier's."""

import csv
import io
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from inventory.db import db
from inventory.models import Device

from .models import Grant
from .purchase_files import read_invoices
from .purchases import file_label, import_invoices

HEADER = ("Lieferant", "Rechnungsnummer", "Rechnungsdatum", "Zahlungsdatum", "Erstattet am", "Aktenzeichen",
          "Seriennummer", "Inventarnummer", "Kategorie", "Netto", "Brutto")
PAYMENT_DAYS = (14, 45)  # a carrier pays an invoice within these many days
CLAIM_AFTER = timedelta(days=42)  # a paid invoice goes into the next reimbursement round after some weeks
UNPAID = 2  # the latest invoices still wait for payment


def invoice_file(today: date, seed: int = 2020) -> bytes:
    """The demo fleet's invoices as a CSV file in the import format (German headers, ';', German numbers)."""
    rng = random.Random(seed)
    grants = {grant.ref: grant for grant in db.session.scalars(select(Grant))}
    groups: dict[tuple[str, str], list[Device]] = defaultdict(list)
    query = (select(Device).where(Device.invoice.is_not(None), Device.invoice != "", Device.supplier.is_not(None),
                                  Device.purchase_date.is_not(None), Device.price_net.is_not(None),
                                  Device.price_gross.is_not(None))
             .order_by(Device.purchase_date, Device.supplier, Device.invoice, Device.id))
    for device in db.session.scalars(query):
        groups[(device.supplier, device.invoice)].append(device)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    latest = sorted(groups, key=lambda key: (groups[key][0].purchase_date, key))[-UNPAID:]
    left = {ref: grant.amount for ref, grant in grants.items()}  # what each notice can still pay out
    for (supplier, number), devices in groups.items():
        invoiced = devices[0].purchase_date
        paid = invoiced + timedelta(days=rng.randint(*PAYMENT_DAYS))
        if paid > today or (supplier, number) in latest:
            paid = None
        funded = [grants[device.grant_ref] for device in devices if device.grant_ref in grants]
        reimbursed = _reimbursed(paid, funded, today)
        shares = defaultdict(Decimal)
        for device in devices:
            if device.grant_ref in grants:
                shares[device.grant_ref] += grants[device.grant_ref].rate * device.price_gross
        if reimbursed and all(share <= left[ref] for ref, share in shares.items()):
            for ref, share in shares.items():
                left[ref] -= share
        elif reimbursed:  # the Land pays no more than the notice grants: the rest waits for the proof of use
            reimbursed = None
            for ref in shares:
                left[ref] = Decimal(0)
        for device in devices:
            writer.writerow([supplier, number, _day(invoiced), _day(paid), _day(reimbursed), device.grant_ref or "",
                             device.serial or "", device.asset_tag or "", device.funding_category or "",
                             _euro(device.price_net), _euro(device.price_gross)])
    return out.getvalue().encode("utf-8-sig")


def _reimbursed(paid: date | None, grants: list[Grant], today: date) -> date | None:
    """The end of the quarter the claim could go in, for funded invoices: all of a grant whose proof of use is in,
    else those paid in the first half of the project (the rest is requested with the proof of use)."""
    if paid is None or not grants:
        return None
    for grant in grants:
        if grant.proof_submitted is None:
            end = grant.project_end or today
            if paid > grant.decided + (end - grant.decided) / 2:
                return None
    day = _quarter_end(paid + CLAIM_AFTER)
    return day if day <= today else None


def _quarter_end(day: date) -> date:
    month = (day.month - 1) // 3 * 3 + 3
    following = date(day.year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _day(day: date | None) -> str:
    return f"{day:%d.%m.%Y}" if day else ""


def _euro(amount) -> str:
    return f"{amount:.2f}".replace(".", ",")


def record_invoices(today: date, seed: int = 2020) -> str:
    """Record the demo invoices; one line for the demo command."""
    name = "demo-rechnungen.csv"
    result = import_invoices(read_invoices(invoice_file(today, seed), name), file_label(name))
    return f"demo invoices: {result.summary()}"
