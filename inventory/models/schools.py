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
    # As schools.yaml declares them: per programme, the parameters that replace the Land's (checked by
    # provisioning on sync); budgets per programme as decimal text, so money never passes through a float.
    funding: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    budgets: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")


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
    network_since: Mapped[date | None] = mapped_column(Date)  # LAN/WLAN in place since
    target_date: Mapped[date | None] = mapped_column(Date)  # rooms without their own target date take this one
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
    # kind → count laid over the profile's items (0 drops a kind); when the room should be complete
    items: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    target_date: Mapped[date | None] = mapped_column(Date)

    school: Mapped[School] = relationship(back_populates="rooms")
    profile: Mapped[Profile | None] = relationship()

    def __repr__(self) -> str:
        return f"<Room {self.code}>"
