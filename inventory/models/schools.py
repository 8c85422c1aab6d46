"""The carrier, its schools, their subnets and rooms, and room profiles."""

from datetime import date

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Timestamped, db


class Carrier(Timestamped, db.Model):
    __tablename__ = "carriers"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))


class Profile(Timestamped, db.Model):
    __tablename__ = "profiles"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    items: Mapped[dict] = mapped_column(JSON, default=dict)


class School(Timestamped, db.Model):
    __tablename__ = "schools"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16), default="general")
    concept_date: Mapped[date | None] = mapped_column(Date)
    # Discovery settings as declared; secrets are kept only as ${ENV} references.
    discovery: Mapped[dict] = mapped_column(JSON, default=dict)

    subnets: Mapped[list["Subnet"]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="Subnet.cidr")
    rooms: Mapped[list["Room"]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="Room.code")

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class Subnet(Timestamped, db.Model):
    __tablename__ = "subnets"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    cidr: Mapped[str] = mapped_column(String(49), unique=True)

    school: Mapped[School] = relationship(back_populates="subnets")


class Room(Timestamped, db.Model):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "code", name="uq_rooms_school_code"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="classroom")
    building: Mapped[str | None] = mapped_column(String(40))
    floor: Mapped[int | None] = mapped_column(Integer)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"), index=True)

    school: Mapped[School] = relationship(back_populates="rooms")
    profile: Mapped[Profile | None] = relationship()

    def __repr__(self) -> str:
        return f"<Room {self.code}>"
