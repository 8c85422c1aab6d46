"""Words for the vocabularies the pages show (statuses, roles, …), translatable like every visible string."""

from flask_babel import lazy_gettext as _l

ROLES = {"admin": _l("Administrator"), "support": _l("IT support"), "finance": _l("Finance"),
         "viewer": _l("Read only")}

DEVICE_STATUSES = {"planned": _l("planned"), "ordered": _l("ordered"), "in_stock": _l("in stock"),
                   "active": _l("active"), "loaned": _l("loaned"), "repair": _l("in repair"),
                   "missing": _l("missing"), "retired": _l("retired")}

DISPLAY_STATES = {"online": _l("online"), "not_seen": _l("not seen"), "missing": _l("missing")}

RUN_STATUSES = {"queued": _l("queued"), "running": _l("running"), "succeeded": _l("succeeded"), "failed": _l("failed")}

TRIGGERS = {"schedule": _l("scheduled"), "manual": _l("manual"), "agent": _l("on-site agent")}


def label(vocabulary: dict, value: str | None) -> str:
    """The word for value, or value itself when the vocabulary does not know it."""
    return "" if value is None else str(vocabulary.get(value, value))
