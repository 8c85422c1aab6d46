"""The demo's invoices: every invoiced device on one recorded invoice, payments and reimbursements that the funding
report shows, and rule findings for the checks to show. Checked by test_demo_history.py's tests, which load the
demo once for both (loading it takes seconds)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from inventory.models import Device
from provisioning.demo import invoice_file, record_invoices
from provisioning.models import Purchase, PurchaseLine
from provisioning.report import build_report

TODAY = date(2026, 11, 24)


def check_every_invoiced_device_is_on_one_recorded_invoice_and_most_are_paid(demo):
    invoiced = demo.session.scalar(select(func.count()).select_from(Device).where(Device.invoice.is_not(None)))
    lines = demo.session.scalar(select(func.count()).select_from(PurchaseLine))
    on_lines = demo.session.scalar(select(func.count(func.distinct(PurchaseLine.device_id))))
    assert invoiced > 500
    assert lines == on_lines == invoiced
    # each line agrees with its device: the report reads the device, the invoice adds its dates
    mismatched = demo.session.scalar(
        select(func.count()).select_from(PurchaseLine).join(Device).join(Purchase)
        .where((Device.invoice != Purchase.invoice_number) | (Device.supplier != Purchase.supplier)
               | (Device.purchase_date != Purchase.invoice_date) | (Device.price_gross != PurchaseLine.gross)))
    assert mismatched == 0
    # most are paid, some reimbursed by the Land, the latest still wait for payment
    purchases = list(demo.session.scalars(select(Purchase).order_by(Purchase.invoice_date, Purchase.id)))
    unpaid = [p for p in purchases if p.paid_date is None]
    assert 1 <= len(unpaid) <= 3
    assert all(p.invoice_date >= purchases[len(purchases) // 2].invoice_date for p in unpaid)
    assert all(p.paid_date > p.invoice_date for p in purchases if p.paid_date)
    reimbursed = [p for p in purchases if p.reimbursed_date]
    assert 0 < len(reimbursed) < len(purchases)
    assert all(p.paid_date and p.reimbursed_date > p.paid_date and p.reimbursed_date <= TODAY for p in reimbursed)


def check_the_report_splits_the_funded_share_into_reimbursed_and_requested_now_and_runs_again(demo):
    report = build_report(TODAY)
    total = report.total()
    assert total.reimbursed > 0 and total.requested_now > 0
    assert total.paid < total.invoiced
    invoiced_share = sum((line.eligible_share for line in report.lines if line.invoiced), Decimal("0.00"))
    assert total.reimbursed + total.requested_now == invoiced_share
    assert all(line.payment_date is None for line in report.lines if not line.invoiced)
    assert any(line.commissioned for line in report.lines)
    # something for the checks to show: at least one rule broken and one earmark at risk
    assert any(f.severity == "error" for f in report.findings)
    assert any(f.rule == "R8" for f in report.findings)
    # the same day and seed give the same file: recording it again changes nothing
    assert invoice_file(TODAY) == invoice_file(TODAY)
    assert record_invoices(TODAY).startswith(f"demo invoices: 0 invoice(s) were created, 0 replaced, "
                                             f"{demo.session.scalar(select(func.count()).select_from(Purchase))} "
                                             f"unchanged")
