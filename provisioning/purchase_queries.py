"""Reading invoices: pages of them for the API, and one as JSON."""

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from inventory.db import db
from inventory.models import Device, School

from .models import Purchase, PurchaseLine
from .purchases import ZERO


def list_purchases(grant: str | None = None, supplier: str | None = None, paid: bool | None = None,
                   visible: Iterable[str] | None = None, page: int = 1, per_page: int = 50) -> tuple[int, list]:
    """(count, page of invoices) newest first; visible (None: all) keeps invoices with a device in those schools."""
    query = select(Purchase)
    if grant:
        query = query.where(Purchase.id.in_(select(PurchaseLine.purchase_id).join(Device)
                                            .where(Device.grant_ref == grant)))
    if supplier:
        query = query.where(func.lower(Purchase.supplier).contains(supplier.lower(), autoescape=True))
    if paid is not None:
        query = query.where(Purchase.paid_date.is_not(None) if paid else Purchase.paid_date.is_(None))
    if visible is not None:
        query = query.where(Purchase.id.in_(select(PurchaseLine.purchase_id).join(Device).join(School)
                                            .where(School.code.in_(list(visible)))))
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.options(selectinload(Purchase.lines).selectinload(PurchaseLine.device)
                                            .selectinload(Device.school))
                              .order_by(Purchase.invoice_date.desc(), Purchase.id.desc())
                              .limit(per_page).offset((page - 1) * per_page))
    return count, list(rows)


def purchase_dict(purchase: Purchase, visible: Iterable[str] | None = None) -> dict:
    """An invoice as JSON: money as decimal text, its lines (those in visible schools) with their devices."""
    seen = None if visible is None else set(visible)
    lines = [line for line in purchase.lines if seen is None or line.device.school.code in seen]
    total_net = sum((line.net for line in purchase.lines), start=ZERO)
    total_gross = sum((line.gross for line in purchase.lines), start=ZERO)
    return {"id": purchase.id, "supplier": purchase.supplier, "invoice_number": purchase.invoice_number,
            "invoice_date": _iso(purchase.invoice_date), "paid_date": _iso(purchase.paid_date),
            "reimbursed_date": _iso(purchase.reimbursed_date), "grant": purchase.grant_ref, "note": purchase.note,
            "net": str(total_net), "gross": str(total_gross), "line_count": len(purchase.lines),
            "lines": [{"position": line.position, "device": line.device_id, "label": line.device.label,
                       "school": line.device.school.code, "serial": line.device.serial,
                       "asset_tag": line.device.asset_tag, "category": line.category, "net": str(line.net),
                       "gross": str(line.gross)} for line in lines]}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
