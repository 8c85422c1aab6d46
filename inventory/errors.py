"""Domain errors. Each maps to one HTTP status and one line for the CLI."""


class FleetError(Exception):
    """A mistake a user can fix; never a bug."""

    status = 422

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    @property
    def name(self) -> str:
        return type(self).__name__


class NotFound(FleetError):
    status = 404


class Conflict(FleetError):
    status = 409


class InvalidInput(FleetError):
    status = 422


class UnknownSchool(NotFound):
    def __init__(self, code: str, field: str = "school"):
        super().__init__(f"unknown school '{code}'", {field: [f"unknown school '{code}'"]})


class UnknownRoom(NotFound):
    def __init__(self, school: str, room: str, field: str = "room"):
        msg = f"unknown room '{room}' in school '{school}'"
        super().__init__(msg, {field: [msg]})


class DeviceNotFound(NotFound):
    def __init__(self, device_id):
        super().__init__(f"no device with id {device_id}")


class DuplicateIdentity(Conflict):
    """A serial, asset tag or MAC already belongs to another device that is not retired."""

    def __init__(self, field: str, value: str, other_id: int, other_label: str):
        msg = f"{field} '{value}' already belongs to device {other_id} ({other_label})"
        super().__init__(msg, {field: [msg]})
        self.other_id = other_id


class DuplicateSerial(DuplicateIdentity):
    pass


class DuplicateAssetTag(DuplicateIdentity):
    pass


class DuplicateMac(DuplicateIdentity):
    pass


class FileRejected(FleetError):
    """A file (schools.yaml, an import) with one or more bad lines; nothing was written."""

    def __init__(self, errors: list[str], summary: str | None = None):
        self.errors = list(errors)
        super().__init__(summary or f"{len(self.errors)} error(s); nothing was changed",
                         {"lines": self.errors})

    def __str__(self) -> str:
        return "\n".join(self.errors)
