"""marshmallow fields that normalise network values at the edge."""

from marshmallow import ValidationError, fields

from inventory.errors import InvalidInput
from inventory.netvalues import canonical_ip, canonical_mac, canonical_network, is_hostname


class _Normalised(fields.String):
    normalise = staticmethod(lambda value, field: value)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return self.normalise(text, attr)
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class Mac(_Normalised):
    """A MAC in any common notation, stored as aa:bb:cc:dd:ee:ff."""

    normalise = staticmethod(canonical_mac)


class IP(_Normalised):
    """A single IPv4 or IPv6 address."""

    normalise = staticmethod(canonical_ip)


class Network(_Normalised):
    """A network in CIDR notation (host bits cleared)."""

    normalise = staticmethod(lambda value, field: str(canonical_network(value, field)))


class Hostname(fields.String):
    """An RFC 1123 host name."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_hostname(text):
            raise ValidationError(f"'{text}' is not a valid host name (letters, digits, '-', at most 63)")
        return text
