"""Configuration defaults; the environment (FLEET_*) and test_config override them."""


class Defaults:
    SECRET_KEY = "change-me"  # replaced by FLEET_SECRET_KEY in any real deployment
    SQLALCHEMY_DATABASE_URI = None  # filled in from FLEET_DATABASE_URL or the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SCHOOLS = None  # path of schools.yaml; FLEET_SCHOOLS
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    API_TITLE = "Schulflotte"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
