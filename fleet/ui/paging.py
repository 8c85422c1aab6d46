"""Paging and sorting from a list page's query string, checked: a bad value falls back to the default."""

from dataclasses import dataclass

from flask import request

PER_PAGE = (25, 50, 100, 250)


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def first(self) -> int:
        """The number of the first row shown (1-based), 0 when there are none."""
        return min(self.offset + 1, self.count)

    @property
    def last(self) -> int:
        return min(self.offset + self.per_page, self.count)


def paging(count: int, default_per_page: int = 50) -> Paging:
    """page and per_page from the query string, kept inside what the count allows."""
    per_page = request.args.get("per_page", type=int)
    per_page = per_page if per_page in PER_PAGE else default_per_page
    pages = max(1, -(-count // per_page))
    page = request.args.get("page", type=int) or 1
    return Paging(min(max(page, 1), pages), per_page, count)


def sorting(allowed: tuple[str, ...], default: str) -> str:
    """sort from the query string: one of allowed, '-' in front for descending; else default."""
    value = request.args.get("sort", "")
    return value if value.lstrip("-") in allowed else default
