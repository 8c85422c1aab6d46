"""Device files in and out: CSV, XLSX and linuxmuster.net devices.csv, as plain validated records."""

from collections.abc import Iterable, Mapping
from pathlib import PurePath

from .linuxmuster import read_linuxmuster, write_linuxmuster
from .records import COLUMNS, DeviceRecord, FormatError, InterfaceRecord, Row, parse_records
from .tabular import read_csv, read_xlsx, write_csv, write_xlsx

FORMATS = ("csv", "xlsx", "linuxmuster")

__all__ = ["COLUMNS", "FORMATS", "DeviceRecord", "FormatError", "InterfaceRecord", "Row", "detect_format",
           "parse_records", "read_rows", "write_devices"]


def detect_format(filename: str) -> str:
    """The format a file name suggests: *.xlsx, linuxmuster's devices.csv or <school>.devices.csv, other *.csv."""
    name = PurePath(filename).name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if name == "devices.csv" or name.endswith(".devices.csv") or "linuxmuster" in name:
        return "linuxmuster"
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FormatError([f"{filename}: cannot tell the format from the name: give the format (csv, xlsx or "
                       f"linuxmuster)"])


def _known(fmt: str, filename: str) -> None:
    if fmt not in FORMATS:
        raise FormatError([f"{filename}: unknown format '{fmt}' (csv, xlsx or linuxmuster)"])


def read_rows(data: bytes, fmt: str, filename: str, default_school: str | None = None) -> list[Row]:
    """File bytes → rows; default_school is the school of a linuxmuster file (tables name their own)."""
    _known(fmt, filename)
    if fmt == "xlsx":
        return read_xlsx(data, filename)
    if fmt == "linuxmuster":
        return read_linuxmuster(data, filename, default_school)
    return read_csv(data, filename)


def write_devices(records: Iterable[Mapping[str, object]], fmt: str, school: str | None = None) -> bytes:
    """Device mappings keyed by column names → file bytes; an empty school cell of a table gets `school`."""
    _known(fmt, "export")
    if fmt == "xlsx":
        return write_xlsx(records, school)
    if fmt == "linuxmuster":
        return write_linuxmuster(records)
    return write_csv(records, school)
