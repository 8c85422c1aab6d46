"""Every string the web UI marks for translation has its German translation, and the catalog has no leftovers."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG = ROOT / "fleet" / "translations" / "de" / "LC_MESSAGES" / "messages.po"


def _marked() -> set:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords={"_": None, "gettext": None, "_l": None,
                                                               "lazy_gettext": None, "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_marked_string_has_a_german_translation():
    with CATALOG.open("rb") as source:
        catalog = read_po(source, locale="de")
    translated = {message.id if isinstance(message.id, str) else tuple(message.id)
                  for message in catalog if message.id and message.string}
    missing = sorted(str(message) for message in _marked() - translated)
    assert missing == []
