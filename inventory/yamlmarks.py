"""YAML composed with line marks, and the marshmallow fields and base schema that report each problem at its line."""

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import yaml
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from marshmallow.exceptions import SCHEMA
from yaml.nodes import MappingNode, ScalarNode

from .cron import cron_trigger
from .errors import InvalidInput
from .netvalues import canonical_ip, canonical_network

Path = tuple[str | int, ...]

MERGE_TAG = "tag:yaml.org,2002:merge"
PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
# Aliases nested in aliases can expand a short file to billions of values; a real declaration has a few thousand.
MAX_VALUES = 1_000_000
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class YamlSyntaxError(Exception):
    """The text is not one well-formed YAML document; nothing further can be checked."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Marked:
    """Plain data (dicts, lists, scalars) with the line of every path and the problems found while composing."""

    data: object
    lines: dict[Path, int]
    problems: list[tuple[int, Path, str]]

    def line(self, path: Path) -> int:
        """The line of path, or of the nearest enclosing value when the path is missing (a required key)."""
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]


def dotted(path: Path) -> str:
    """('schools', 3, 'rooms', 0, 'code') → 'schools[3].rooms[0].code'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def compose(text: str) -> Marked:
    """Compose one YAML document into plain data and line marks; raises YamlSyntaxError."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise YamlSyntaxError(1, "the file is empty")
        return _Builder(loader).build(node)
    except yaml.MarkedYAMLError as error:
        raise YamlSyntaxError(*_describe(error)) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        message = f"invalid YAML: unacceptable character #x{error.character:04x}: {error.reason}"
        raise YamlSyntaxError(line, message) from None
    except RecursionError:
        raise YamlSyntaxError(1, "the document is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _describe(error: yaml.MarkedYAMLError) -> tuple[int, str]:
    mark = error.problem_mark or error.context_mark
    # "but found another document" reads better without its leading "but" once the context follows it.
    message = f"invalid YAML: {(error.problem or error.context).removeprefix('but ')}"
    if error.context and error.problem and error.context_mark:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    if "\\t" in message:
        message += "; indent with spaces, YAML does not allow tabs there"
    return (mark.line + 1 if mark else 1), message


class _Builder:
    """Walks the composed nodes once, recording lines, duplicate keys and unsupported tags."""

    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.lines: dict[Path, int] = {}
        self.problems: list[tuple[int, Path, str]] = []
        self.open: set[int] = set()
        self.budget = MAX_VALUES

    def build(self, node) -> Marked:
        data = self.value(node, (), node.start_mark.line + 1)
        return Marked(data, self.lines, self.problems)

    def value(self, node, path: Path, line: int):
        self.lines[path] = line
        self.budget -= 1
        if self.budget < 0:
            raise YamlSyntaxError(line, f"aliases expand the document to more than {MAX_VALUES} values")
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, line)
        if id(node) in self.open:
            self.problems.append((line, path, "an alias refers to a value that contains it"))
            return None
        if node.tag not in PLAIN_TAGS:
            self.problems.append((line, path, f"unsupported YAML tag '{node.tag}'"))
        self.open.add(id(node))
        try:
            return self.mapping(node, path) if isinstance(node, MappingNode) else self.sequence(node, path)
        finally:
            self.open.discard(id(node))

    def scalar(self, node: ScalarNode, path: Path, line: int):
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as error:
            self.problems.append((line, path, error.problem))
        except (ValueError, OverflowError):
            pass  # a date like 2020-02-30 stays text, so the field that expects a date reports it
        return node.value

    def mapping(self, node: MappingNode, path: Path) -> dict:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != MERGE_TAG:
                key, line = key_node.value, key_node.start_mark.line + 1
                if key in first_line:
                    message = f"duplicate key '{key}' (first at line {first_line[key]})"
                    self.problems.append((line, path + (key,), message))
                first_line.setdefault(key, line)
        # Merge keys (<<: *defaults) put the merged entries first, so explicit keys override them.
        self.loader.flatten_mapping(node)
        result = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.problems.append((line, path, "a key must be plain text, not a list or mapping"))
                continue
            # The key as written: `1:` or `yes:` stays the text the author typed, not an int or a bool.
            result[key_node.value] = self.value(value_node, path + (key_node.value,), line)
        return result

    def sequence(self, node, path: Path) -> list:
        return [self.value(item, path + (index,), item.start_mark.line + 1) for index, item in enumerate(node.value)]


def flatten_errors(messages, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """marshmallow's nested error messages → (path, message) pairs."""
    if isinstance(messages, dict):
        for key, inner in messages.items():
            yield from flatten_errors(inner, path if key == SCHEMA else path + (key,))
    elif isinstance(messages, list):
        for inner in messages:
            yield from flatten_errors(inner, path)
    else:
        yield path, str(messages)


def did_you_mean(value, choices) -> str:
    """A hint to end a message with: the closest choice, or all of them."""
    choices = list(dict.fromkeys(str(choice) for choice in choices))
    close = difflib.get_close_matches(str(value), choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f"; one of: {', '.join(choices)}"


def between(low=None, high=None, low_inclusive=True) -> validate.Range:
    """A range validator whose message reads as plain words."""
    above = "at least" if low_inclusive else "more than"
    words = " and ".join(part for part in (low is not None and f"{above} {low}",
                                           high is not None and f"at most {high}") if part)
    return validate.Range(min=low, max=high, min_inclusive=low_inclusive, error=f"must be {words}")


class StrictSchema(Schema):
    """Rejects unknown keys, naming them with a suggestion, so a typo never passes silently."""

    error_messages = {"type": "must be a mapping (key: value)"}

    class Meta:
        unknown = EXCLUDE  # reported below, with a suggestion, instead of marshmallow's bare "Unknown field."

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _reject_unknown_keys(self, data, original, **kwargs):
        if isinstance(original, Mapping):
            unknown = {key: [f"unknown key '{key}'{did_you_mean(key, list(self.load_fields))}"]
                       for key in original if key not in self.load_fields}
            if unknown:
                raise ValidationError(unknown)


# Fields that say what is wrong in words a carrier's technician understands, not in marshmallow's defaults.

class Plain:
    default_error_messages = {"required": "missing (required)", "null": "must not be empty"}


class Text(Plain, fields.String):
    default_error_messages = {"invalid": "must be text; put it in quotes"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise self.make_error("null")
        return text


class Choice(Text):
    """One of a fixed vocabulary, matched without regard to case and returned as the vocabulary spells it."""

    def __init__(self, choices, noun: str, **kwargs):
        super().__init__(**kwargs)
        self.choices, self.noun = tuple(str(choice) for choice in choices), noun

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        for choice in self.choices:
            if choice.lower() == text.lower():
                return choice
        raise ValidationError(f"'{text}' is not a {self.noun}{did_you_mean(text, self.choices)}")


class Integer(Plain, fields.Integer):
    default_error_messages = {"invalid": "must be a whole number"}

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)


class Number(Plain, fields.Float):
    default_error_messages = {"invalid": "must be a number", "special": "must be a number"}


class Day(Plain, fields.Field):
    """A date: YAML reads 2020-09-01 as one already; quoted text in the same form is fine too."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValidationError(f"'{value}' is not a date (YYYY-MM-DD)")


class DecimalText(Plain, fields.Field):
    """Money and rates as Decimal, never through binary floating point."""

    def __init__(self, places: int, example: str, **kwargs):
        super().__init__(**kwargs)
        self.pattern = re.compile(rf"\d+(\.\d{{1,{places}}})?")
        self.places, self.example = places, example

    def _deserialize(self, value, attr, data, **kwargs):
        # A YAML float is taken through its shortest text form, which is what the author wrote.
        text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
        if not self.pattern.fullmatch(text):
            raise ValidationError(f"'{value}' is not a decimal number with at most {self.places} decimal places, "
                                  f"e.g. \"{self.example}\"")
        return Decimal(text)


class Nested(Plain, fields.Nested):
    pass


class Sequence(Plain, fields.List):
    """A list whose items keep their index even when some fail, so later checks can still name them by position."""

    default_error_messages = {"invalid": "must be a list"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, list):
            raise self.make_error("invalid")
        result, errors = [], {}
        for index, item in enumerate(value):
            try:
                result.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as error:
                result.append(error.valid_data)
                errors[index] = error.messages
        if errors:
            raise ValidationError(errors, valid_data=result)
        return result


class Table(Plain, fields.Dict):
    """A mapping whose key and value errors are both reported at the key's own path."""

    default_error_messages = {"invalid": "must be a mapping (key: value)"}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            if not isinstance(error.messages, dict):
                raise
            messages = {key: found.get("key") or found["value"] for key, found in error.messages.items()}
            raise ValidationError(messages, valid_data=error.valid_data) from None


class Code(Text):
    """A short identifier that is safe in URLs and file names."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not CODE.fullmatch(text):
            raise ValidationError(f"'{text}' is not a code: use letters, digits, '-', '_' and '.'")
        return text


class Network(Text):
    """A network in canonical CIDR form; host bits are cleared."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "/" not in text:
            raise ValidationError(f"'{text}' is not a network: write it with its prefix length, e.g. '{text}/24'")
        try:
            return str(canonical_network(text))
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class Address(Text):
    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return canonical_ip(super()._deserialize(value, attr, data, **kwargs))
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class Cron(Text):
    """A five-field crontab expression, checked by the scheduler that will run it."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = " ".join(super()._deserialize(value, attr, data, **kwargs).split())
        try:
            cron_trigger(text, "UTC")
        except ValueError as error:
            raise ValidationError(f"'{text}' is not a cron schedule (minute hour day month weekday): {error}") from None
        return text
