"""Grants (Zuwendungsbescheide) as schools.yaml declares them, devices naming theirs by reference (Device.grant_ref);
purchases (invoices) and their lines, one device per line."""

from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.db import Timestamped, db
from inventory.models import Device, School

grant_schools = Table(
    "grant_schools",
    db.metadata,
    Column("grant_id", ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Grant(Timestamped, db.Model):
    __tablename__ = "grants"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(60), unique=True)  # the Aktenzeichen, as Device.grant_ref names it
    programme: Mapped[str] = mapped_column(String(40), index=True)
    applied: Mapped[date | None] = mapped_column(Date)
    decided: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    project_end: Mapped[date | None] = mapped_column(Date)
    proof_due: Mapped[date | None] = mapped_column(Date)  # as written on the notice; else the programme's rule
    proof_submitted: Mapped[date | None] = mapped_column(Date)

    schools: Mapped[list[School]] = relationship(secondary=grant_schools, order_by=School.code)

    @property
    def school_codes(self) -> list[str]:
        return [school.code for school in self.schools]

    def __repr__(self) -> str:
        return f"<Grant {self.ref}>"


class Purchase(Timestamped, db.Model):
    """One invoice: who sent it, when, when the carrier paid it and when the Land reimbursed its funded share."""

    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("supplier", "invoice_number", name="uq_purchases_supplier_invoice_number"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier: Mapped[str] = mapped_column(String(120))
    invoice_number: Mapped[str] = mapped_column(String(80), index=True)
    invoice_date: Mapped[date] = mapped_column(Date)
    paid_date: Mapped[date | None] = mapped_column(Date)
    reimbursed_date: Mapped[date | None] = mapped_column(Date)
    grant_ref: Mapped[str | None] = mapped_column(String(60), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list["PurchaseLine"]] = relationship(
        back_populates="purchase", cascade="all, delete-orphan", order_by="PurchaseLine.position")

    def __repr__(self) -> str:
        return f"<Purchase {self.supplier} {self.invoice_number}>"


class PurchaseLine(Timestamped, db.Model):
    """One invoiced device; a device is on one line at most, so nothing is paid for twice."""

    __tablename__ = "purchase_lines"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), unique=True)
    category: Mapped[str | None] = mapped_column(String(32))
    net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    gross: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    purchase: Mapped[Purchase] = relationship(back_populates="lines")
    device: Mapped[Device] = relationship()
