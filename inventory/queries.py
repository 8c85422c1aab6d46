"""Read side of the inventory: filtered, sorted, paged device lists."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Integer, Select, bindparam, func, literal_column, or_, select

from .db import db
from .errors import InvalidInput, UnknownSchool
from .models import Device, Interface, Room, School
from .netvalues import network_key_range

SORTABLE = {
    "id": Device.id, "hostname": Device.hostname, "serial": Device.serial, "asset_tag": Device.asset_tag,
    "kind": Device.kind, "status": Device.status, "vendor": Device.vendor, "model": Device.model,
    "ip": Device.ip_key, "last_seen": Device.last_seen_at, "created_at": Device.created_at,
    "updated_at": Device.updated_at, "purchase_date": Device.purchase_date, "school": School.code,
    "room": Room.code,
}

# A list row, in this order: named one by one so a new column on Device never shifts what the API unpacks.
ROW_COLUMNS = (
    Device.id, Device.parent_id, Device.kind, Device.status, Device.vendor, Device.model, Device.serial,
    Device.asset_tag, Device.hostname, Device.ip, Device.borrower, Device.supplier, Device.invoice,
    Device.purchase_date, Device.price_net, Device.price_gross, Device.grant_ref, Device.funding_category,
    Device.warranty_end, Device.commissioned_on, Device.notes, Device.last_seen_at, Device.last_seen_ip,
    Device.last_seen_where,
    Device.created_at, Device.updated_at,
)
LIST_FIELDS = (*(column.key for column in ROW_COLUMNS), "school", "room", "macs")

# Filters whose value is a list; one value or several give different statements (== plans better than IN).
LIST_FILTERS = {"school", "room", "kind", "status"}


@dataclass(frozen=True)
class Page:
    count: int
    page: int
    per_page: int
    results: list


def _school_ids(codes: list[str]) -> list[int]:
    """Ids of the schools named; an unknown code is an error, not an empty list."""
    found = dict(db.session.execute(select(School.code, School.id).where(School.code.in_(codes))).all())
    for code in codes:
        if code not in found:
            raise UnknownSchool(code)
    return [found[code] for code in codes]


def _sort_order(sort: str | None) -> tuple[tuple[str, bool], ...]:
    """'field' or '-field', comma-separated, as (field, descending) pairs; an unknown field is an error."""
    order = []
    for part in (sort or "id").split(","):
        part = part.strip()
        name = part.lstrip("-")
        if name not in SORTABLE:
            raise InvalidInput(f"cannot sort by '{name}'", {"sort": [f"choose from {', '.join(SORTABLE)}"]})
        order.append((name, part.startswith("-")))
    return tuple(order)


def _like_pattern(needle: str) -> str:
    """A LIKE pattern finding needle anywhere, its wildcards escaped with '/' (as autoescape does)."""
    return "%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _one_or_many(column, name: str, many: bool) -> ColumnElement:
    return column.in_(bindparam(name, expanding=True)) if many else column == bindparam(name)


def _condition(name: str, many: bool) -> ColumnElement:
    """The WHERE clause of one filter, its values left as bound parameters named after it."""
    if name == "school":
        if many:
            return Device.school_id.in_(bindparam("school_ids", expanding=True))
        # The id comes from a subquery, not a lookup of our own: one round trip, and never a stale id.
        school_id = select(School.id).where(School.code == bindparam("school")).correlate(None).scalar_subquery()
        return Device.school_id == school_id
    if name == "room":
        room_ids = select(Room.id).where(_one_or_many(Room.code, "room", many)).correlate(None)
        return Device.room_id.in_(room_ids)
    if name in ("kind", "status"):
        return _one_or_many(getattr(Device, name), name, many)
    if name == "mac":
        return Device.id.in_(select(Interface.device_id).where(Interface.mac == bindparam("mac")))
    if name == "within":
        low, high = bindparam("within_low"), bindparam("within_high")
        return or_(Device.ip_key.between(low, high), Device.last_seen_ip_key.between(low, high))
    if name == "seen_since":
        return Device.last_seen_at >= bindparam("seen_since")
    if name == "grant":
        return Device.grant_ref == bindparam("grant")
    if name == "parent_id":
        return Device.parent_id == bindparam("parent_id")
    if name == "q":
        return _search_condition()
    raise ValueError(f"no device filter '{name}'")


def _search_condition() -> ColumnElement:
    # lower() on both sides makes the search case-blind; the pattern escapes wildcards with '/'.
    pattern = bindparam("q")
    by_mac = select(Interface.device_id).where(Interface.mac.like(pattern, escape="/"))
    return or_(*(func.lower(column).like(pattern, escape="/")
                 for column in (Device.hostname, Device.serial, Device.asset_tag, Device.model)),
               Device.id.in_(by_mac))


def _parameters(filters: dict) -> tuple[tuple[tuple[str, bool], ...], dict]:
    """The shape of the filters given (names, and one value or several) and their bound values."""
    shape, values = [], {}
    for name, value in sorted(filters.items()):
        if value is None or value == [] or value == "":
            continue
        many = name in LIST_FILTERS and len(value) > 1
        shape.append((name, many))
        values.update(_bound(name, value, many))
    return tuple(shape), values


def _bound(name: str, value, many: bool) -> dict:
    """The bound parameters of one filter."""
    if name == "school":
        return {"school_ids": _school_ids(value)} if many else {"school": value[0]}
    if name in LIST_FILTERS:
        return {name: value if many else value[0]}
    if name == "within":
        low, high = network_key_range(value)
        return {"within_low": low, "within_high": high}
    if name == "q":
        return {"q": _like_pattern(value.strip().lower())}
    return {name: value}


def matching(filters: dict) -> tuple[Select, dict]:
    """The ids of the devices the list's filters select, with the values to bind: the list's own WHERE clause."""
    shape, values = _parameters(filters)
    return _matching(shape), values


def _matching(shape: tuple[tuple[str, bool], ...]) -> Select:
    return select(Device.id).where(*(_condition(name, many) for name, many in shape))


def _macs(dialect: str):
    """A device's MACs in one string, separated by spaces (split and sorted in Python)."""
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    # A literal separator: a bound one would be rendered into the SQL again on every execution.
    return select(aggregate(Interface.mac, literal_column("' '"))).where(Interface.device_id == Device.id)


@functools.lru_cache(maxsize=256)
def _count_statement(shape: tuple[tuple[str, bool], ...]) -> Select:
    return _matching(shape).with_only_columns(func.count()).select_from(Device)


@functools.lru_cache(maxsize=256)
def _page_statement(dialect: str, shape: tuple[tuple[str, bool], ...], order: tuple[tuple[str, bool], ...]) -> Select:
    """One page of list rows with the total, for one shape of filters and one order; built and compiled once.

    The page's ids come from the index alone, in a subquery with the sort keys; the outer query adds the
    columns, school, room and MACs of those rows only, and repeats the order. The total is an uncorrelated
    subquery, evaluated once.
    """
    keys = [SORTABLE[name].label(f"key{n}") for n, (name, _desc) in enumerate(order)]
    inner = _matching(shape).add_columns(*keys)
    names = {name for name, _desc in order}
    if "school" in names:
        inner = inner.join(School, Device.school_id == School.id)
    if "room" in names:
        inner = inner.outerjoin(Room, Device.room_id == Room.id)
    ordering = [key.desc() if desc else key.asc() for key, (_name, desc) in zip(keys, order)]
    # PostgreSQL plans a prepared statement afresh on every run unless a generic plan costs as little; with the
    # page's bounds written in, it does, and planning was a fifth of the statement's time. SQLite would only
    # prepare one statement per page instead of one in all.
    literal = dialect == "postgresql"
    page = (inner.order_by(*ordering, Device.id)
            .limit(bindparam("limit", type_=Integer, literal_execute=literal))
            .offset(bindparam("offset", type_=Integer, literal_execute=literal)).subquery("page"))
    outer_order = [page.c[f"key{n}"].desc() if desc else page.c[f"key{n}"].asc()
                   for n, (_name, desc) in enumerate(order)]
    # Never correlated: the outer query's devices are the page's, the total counts every match.
    total = _count_statement(shape).scalar_subquery().correlate(None).label("total")
    # The columns come in LIST_FIELDS order, then the total.
    return (select(*ROW_COLUMNS, School.code.label("school"), Room.code.label("room"),
                   _macs(dialect).scalar_subquery().label("macs"), total)
            .select_from(page).join(Device, Device.id == page.c.id)
            .join(School, School.id == Device.school_id).outerjoin(Room, Room.id == Device.room_id)
            .order_by(*outer_order, page.c.id))


@contextmanager
def _reading() -> Iterator[Connection]:
    """A connection for statements that only read and each stand alone."""
    if db.engine.dialect.name != "postgresql":
        yield db.session.connection()
        return
    # psycopg forgets its prepared statements at every rollback, and every request ends in one. Outside a
    # transaction nothing is rolled back, so the statement stays prepared, and planned, for the next request.
    with db.engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


def device_page(filters: dict, sort: str | None, page: int, per_page: int) -> Page:
    """One page of devices matching every given filter (lists mean 'any of'), with the total.

    The results are plain tuples in LIST_FIELDS order, macs a sorted list. The list endpoint is the hottest
    path: one statement, cached per shape of the filters, fetches the page's rows with their school, room and
    MACs and the total, without the ORM's identity map.
    """
    try:
        order = _sort_order(sort)
    except InvalidInput:
        if filters.get("school"):
            _school_ids(filters["school"])  # an unknown school is reported before a bad sort, as it always was
        raise
    shape, values = _parameters(filters)
    offset = (page - 1) * per_page
    with _reading() as connection:
        rows = connection.execute(_page_statement(connection.dialect.name, shape, order),
                                  {**values, "limit": per_page, "offset": offset}).all()
        # Each row ends with macs and total; an empty page has neither.
        count = rows[0][-1] if rows else _count_of_empty_page(connection, shape, values, offset)
    if not rows and filters.get("school"):
        _school_ids(filters["school"])  # one school's statement cannot tell an unknown school from an empty one
    results = [(*row[:-2], sorted(row[-2].split(" ")) if row[-2] else []) for row in rows]
    return Page(count=count, page=page, per_page=per_page, results=results)


def _count_of_empty_page(connection: Connection, shape, values: dict, offset: int) -> int:
    """The total when the page came back empty: nothing matched, or the page lies beyond the end."""
    if offset == 0:
        return 0
    return connection.execute(_count_statement(shape), values).scalar()
