"""Grants (Zuwendungsbescheide) as schools.yaml declares them; devices name theirs by reference (Device.grant_ref)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.db import Timestamped, db
from inventory.models import School

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
