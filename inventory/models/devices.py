"""Devices and their network interfaces."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..db import Timestamped, UTCDateTime, db
from ..netvalues import ip_key
from .schools import Room, School

NOT_RETIRED = text("status <> 'retired'")


class Device(Timestamped, db.Model):
    __tablename__ = "devices"
    __table_args__ = (
        # A serial or asset tag belongs to at most one device that is not retired.
        Index("uq_devices_serial_live", "serial", unique=True,
              sqlite_where=NOT_RETIRED, postgresql_where=NOT_RETIRED),
        Index("uq_devices_asset_tag_live", "asset_tag", unique=True,
              sqlite_where=NOT_RETIRED, postgresql_where=NOT_RETIRED),
        Index("ix_devices_school_id_id", "school_id", "id"),
        # Schools and rooms count their devices that are not retired: these answer that from the index alone.
        Index("ix_devices_school_id_status", "school_id", "status"),
        Index("ix_devices_school_id_room_id_status", "school_id", "room_id", "status"),
        # The rollout's counts per room, kind, status and sighting, read from the index alone.
        Index("ix_devices_rollout", "room_id", "kind", "status", "last_seen_at", "parent_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    vendor: Mapped[str | None] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(120))
    serial: Mapped[str | None] = mapped_column(String(80), index=True)
    asset_tag: Mapped[str | None] = mapped_column(String(40), index=True)
    hostname: Mapped[str | None] = mapped_column(String(63), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    ip_key: Mapped[str | None] = mapped_column(String(32), index=True)
    borrower: Mapped[str | None] = mapped_column(String(80))
    supplier: Mapped[str | None] = mapped_column(String(120))
    invoice: Mapped[str | None] = mapped_column(String(80))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    price_net: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    price_gross: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    grant_ref: Mapped[str | None] = mapped_column(String(60), index=True)
    funding_category: Mapped[str | None] = mapped_column(String(32))
    warranty_end: Mapped[date | None] = mapped_column(Date)
    commissioned_on: Mapped[date | None] = mapped_column(Date)  # put into service (Inbetriebnahme)
    notes: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_seen_ip: Mapped[str | None] = mapped_column(String(45))
    last_seen_ip_key: Mapped[str | None] = mapped_column(String(32), index=True)
    last_seen_where: Mapped[str | None] = mapped_column(String(200))
    unseen_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # discovery runs in a row

    school: Mapped[School] = relationship()
    room: Mapped[Room | None] = relationship()
    parent: Mapped["Device | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Device"]] = relationship(back_populates="parent")
    interfaces: Mapped[list["Interface"]] = relationship(
        back_populates="device", cascade="all, delete-orphan", order_by="Interface.id")

    @validates("ip")
    def _keep_ip_key(self, _key, value):
        self.ip_key = ip_key(value)
        return value

    @validates("last_seen_ip")
    def _keep_last_seen_ip_key(self, _key, value):
        self.last_seen_ip_key = ip_key(value)
        return value

    # `live` on interfaces mirrors "not retired" so the partial unique index on MACs can see it.
    @validates("status")
    def _mirror_status(self, _key, value):
        for interface in self.interfaces:
            interface.live = value != "retired"
        return value

    @validates("interfaces")
    def _new_interface_follows_status(self, _key, interface):
        interface.live = self.status != "retired"
        return interface

    @property
    def label(self) -> str:
        """A short human name: hostname, else asset tag, else serial, else kind and id."""
        return self.hostname or self.asset_tag or self.serial or f"{self.kind} #{self.id}"

    def __repr__(self) -> str:
        return f"<Device {self.id} {self.label}>"


class Interface(Timestamped, db.Model):
    __tablename__ = "interfaces"
    __table_args__ = (
        # A MAC belongs to at most one device that is not retired; `live` mirrors that status.
        Index("uq_interfaces_mac_live", "mac", unique=True,
              sqlite_where=text("live"), postgresql_where=text("live")),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(17), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="lan")
    last_ip: Mapped[str | None] = mapped_column(String(45))
    live: Mapped[bool] = mapped_column(Boolean, default=True)

    device: Mapped[Device] = relationship(back_populates="interfaces")
