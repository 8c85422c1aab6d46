"""The main navigation: each page module adds its entry when it is imported, so no module edits another's."""

from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    title: object  # a lazy string, translated when shown
    action: str  # what the user's role must allow ('read', 'write', 'funding', 'admin')
    order: int


_ITEMS: list[NavItem] = []


def nav(endpoint: str, title, action: str, order: int) -> None:
    """Put a page in the navigation at position order (ascending), shown to roles that allow action."""
    _ITEMS.append(NavItem(endpoint, title, action, order))
    _ITEMS.sort(key=lambda item: item.order)


def nav_items(may) -> list[NavItem]:
    """The entries the signed-in user may follow, for pages this app serves."""
    views = current_app.view_functions
    return [item for item in _ITEMS if item.endpoint in views and may(item.action)]
