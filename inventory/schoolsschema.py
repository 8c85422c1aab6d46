"""The structure of schools.yaml as marshmallow schemas; schoolsfile.py runs them and the checks across entries."""

import re
from collections.abc import Mapping

from marshmallow import ValidationError, fields, validate, validates_schema

from .enums import FEDERAL_STATES, DeviceKind, RoomKind, SchoolType
from .formats.records import MAX_AMOUNT
from .yamlmarks import (Address, Choice, Code, Cron, Day, DecimalText, Integer, Nested, Network, Number, Plain,
                        Sequence, StrictSchema, Table, Text, between)

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_FIELDS = ("community", "auth_key", "priv_key")
AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES192", "AES256")


class _Secret(Plain, fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        # The value is never echoed: if it is a literal secret, it must not reach a log or a terminal.
        if not (isinstance(value, str) and ENV_REFERENCE.fullmatch(value)):
            raise ValidationError("must be an ${ENV} reference, not a literal secret")
        return value


class _SnmpVersion(Plain, fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        # YAML reads `version: 3` as a number and `version: 2c` as text; both are fine.
        if isinstance(value, bool) or str(value) not in ("2c", "3"):
            raise ValidationError(f"'{value}' is not an SNMP version: use 2c or 3")
        return str(value)


class _Block(Plain, fields.Field):
    """A mapping kept as written; its keys and values are checked by whoever knows them (provisioning)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("must be a mapping (key: value)")
        return value


def _amount(**kwargs) -> DecimalText:
    return DecimalText(2, "137000.00", validate=between(0, MAX_AMOUNT, low_inclusive=False), **kwargs)


def _kind_counts(**kwargs) -> Table:
    return Table(keys=Choice(DeviceKind, "device kind"), values=Integer(validate=between(0)), **kwargs)


class CarrierSchema(StrictSchema):
    name = Text(required=True)
    state = Choice(FEDERAL_STATES, "federal state code", required=True)
    # Per programme, parameters that replace the Land's; provisioning checks them against programmes.yaml on sync.
    funding = Table(keys=Code(), values=_Block(), allow_none=True)
    budgets = Table(keys=Code(), values=_amount(), allow_none=True)


class ProfileSchema(StrictSchema):
    label = Text(required=True)
    items = _kind_counts(required=True)


class SnmpSchema(StrictSchema):
    version = _SnmpVersion(required=True)
    community = _Secret()
    user = Text()
    auth_protocol = Choice(AUTH_PROTOCOLS, "authentication protocol")
    auth_key = _Secret()
    priv_protocol = Choice(PRIV_PROTOCOLS, "privacy protocol")
    priv_key = _Secret()

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _fits_version(self, data, original, **kwargs):
        if not isinstance(original, Mapping):
            return
        given, errors = set(original), {}
        v3_only = given & {"user", "auth_protocol", "auth_key", "priv_protocol", "priv_key"}
        if data.get("version") == "2c":
            errors.update({key: ["only used with SNMP version 3"] for key in v3_only})
            if "community" not in given:
                errors["community"] = ["missing (required for SNMP version 2c)"]
        elif data.get("version") == "3":
            if "community" in given:
                errors["community"] = ["only used with SNMP version 2c"]
            if "user" not in given:
                errors["user"] = ["missing (required for SNMP version 3)"]
            for protocol, key in (("auth_protocol", "auth_key"), ("priv_protocol", "priv_key")):
                if (protocol in given) != (key in given):
                    missing, present = (key, protocol) if protocol in given else (protocol, key)
                    errors[missing] = [f"missing (required with {present})"]
            if given & {"priv_protocol", "priv_key"} and not given & {"auth_protocol", "auth_key"}:
                errors["priv_protocol"] = ["privacy needs authentication: add auth_protocol and auth_key"]
        if errors:
            raise ValidationError(errors)


class DiscoverySchema(StrictSchema):
    schedule = Cron(allow_none=True)
    timeout = Number(validate=between(0, 30, low_inclusive=False))
    retries = Integer(validate=between(0, 5))
    concurrency = Integer(validate=between(1, 4096))
    port = Integer(validate=between(1, 65535))
    missing_after = Integer(validate=between(1))
    snmp = Sequence(Nested(SnmpSchema), allow_none=True)
    routers = Sequence(Address(), allow_none=True)
    switches = Sequence(Address(), allow_none=True)


class RoomSchema(StrictSchema):
    code = Code(required=True)
    name = Text(required=True)
    kind = Choice(RoomKind, "room kind")
    building = Text(allow_none=True)
    floor = Integer(allow_none=True)
    profile = Text(allow_none=True)
    items = _kind_counts(allow_none=True)  # overrides of the profile's counts; 0 drops a kind
    target = Day(allow_none=True)  # when the room should be complete; else its school's target


class SchoolSchema(StrictSchema):
    code = Code(required=True)
    name = Text(required=True)
    number = Text(allow_none=True)
    type = Choice(SchoolType, "school type", required=True)
    subnets = Sequence(Network(), allow_none=True)
    discovery = Nested(DiscoverySchema, allow_none=True)
    rooms = Sequence(Nested(RoomSchema), allow_none=True)
    concept_date = Day(allow_none=True)
    network_since = Day(allow_none=True)  # LAN/WLAN in place since (funding rule R2)
    target = Day(allow_none=True)  # the default target date of the school's rooms


class GrantSchema(StrictSchema):
    ref = Text(required=True)
    programme = Text(required=True)
    schools = Sequence(Code(), required=True, validate=validate.Length(min=1, error="must name at least one school"))
    applied = Day(allow_none=True)
    decided = Day(required=True)
    amount = _amount(required=True)
    rate = DecimalText(4, "0.90", required=True, validate=between(0, 1, low_inclusive=False))
    project_end = Day(allow_none=True)
    proof_due = Day(allow_none=True)
    proof_submitted = Day(allow_none=True)


class DeclarationSchema(StrictSchema):
    carrier = Nested(CarrierSchema, required=True)
    profiles = Table(keys=Code(), values=Nested(ProfileSchema), allow_none=True)
    schools = Sequence(Nested(SchoolSchema), required=True,
                       validate=validate.Length(min=1, error="must declare at least one school"))
    grants = Sequence(Nested(GrantSchema), allow_none=True)
