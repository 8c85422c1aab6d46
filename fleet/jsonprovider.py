"""JSON responses through orjson: the device list is large, and encoding it was a tenth of each request."""

from decimal import Decimal

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson's encoder; dates come out in ISO 8601."""

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, default=_default, option=OPTIONS).decode()

    def response(self, *args, **kwargs):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(obj, default=_default, option=OPTIONS),
                                        mimetype=self.mimetype)
