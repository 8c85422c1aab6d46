"""Each worker trusts a checked token for a few seconds; revocation still takes effect within that bound."""

import pytest
from sqlalchemy import select, update

from fleet.auth import TOKEN_CACHE_SECONDS, Caller, TokenCache
from inventory.db import utcnow
from inventory.models import ApiToken

DEVICES = "/api/v1/devices"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app, db):
    """A fresh token cache for the app, driven by a hand-moved clock."""
    saved = app.extensions.get("fleet_token_cache")
    app.extensions["fleet_token_cache"] = TokenCache(TOKEN_CACHE_SECONDS, clock=Clock())
    yield app.extensions["fleet_token_cache"].clock
    app.extensions["fleet_token_cache"] = saved


def _revoke_behind_the_apps_back(db, name: str) -> None:
    # Another worker or `fleet tokens revoke` in its own process: this process's ORM events never see it.
    with db.engine.begin() as connection:
        connection.execute(update(ApiToken).where(ApiToken.name == name).values(revoked_at=utcnow()))


def test_a_token_revoked_in_another_process_stops_working_within_the_cache_bound(client, db, clock, token_for):
    headers = token_for("admin")
    name = db.session.scalar(select(ApiToken.name))
    assert client.get(DEVICES, headers=headers).status_code == 200
    _revoke_behind_the_apps_back(db, name)
    clock.now += TOKEN_CACHE_SECONDS - 0.5
    assert client.get(DEVICES, headers=headers).status_code == 200
    clock.now += 1
    response = client.get(DEVICES, headers=headers)
    assert response.status_code == 401
    assert response.json["message"] == "the token is unknown or revoked"


def test_a_token_revoked_through_the_api_stops_working_at_once(client, db, clock, token_for, admin):
    headers = token_for("finance")
    assert client.get(DEVICES, headers=headers).status_code == 200
    finance = db.session.scalar(select(ApiToken.id).where(ApiToken.role == "finance"))
    assert client.delete(f"/api/v1/tokens/{finance}", headers=admin).status_code == 200
    assert client.get(DEVICES, headers=headers).status_code == 401


def test_an_unknown_token_is_asked_for_again_so_a_new_token_works_at_once(client, db, clock, token_for):
    assert client.get(DEVICES, headers={"Authorization": "Bearer sft_not-yet"}).status_code == 401
    assert client.get(DEVICES, headers=token_for("finance")).status_code == 200


def test_a_cached_token_keeps_its_role_and_schools(client, db, clock, token_for, make_school):
    make_school(code="gs-a")
    make_school(code="gs-b")
    support = token_for("support", ["gs-a"])
    for _ in range(2):
        assert client.post(DEVICES, headers=support, json={"school": "gs-a", "kind": "laptop"}).status_code == 201
        response = client.post(DEVICES, headers=support, json={"school": "gs-b", "kind": "laptop"})
        assert response.status_code == 403
        assert "limited to gs-a" in response.json["message"]
        assert client.post("/api/v1/schools/gs-a/rooms", headers=support,
                           json={"code": "X1", "name": "X"}).status_code == 403


def caller(token_id: int) -> Caller:
    return Caller(id=token_id, name=f"t{token_id}", role="admin", school_codes=())


def test_the_cache_forgets_entries_when_they_expire_or_are_forgotten():
    clock = Clock()
    cache = TokenCache(seconds=5, clock=clock)
    seven = caller(7)
    cache.put("k", seven)
    assert cache.get("k") is seven
    clock.now += 5
    assert cache.get("k") is None
    cache.put("k", seven)
    cache.forget(7)
    assert cache.get("k") is None


def test_the_cache_holds_at_most_its_size_dropping_the_oldest():
    cache = TokenCache(seconds=5, size=2, clock=Clock())
    callers = [caller(n) for n in range(3)]
    for n, each in enumerate(callers):
        cache.put(str(n), each)
    assert [cache.get(str(n)) for n in range(3)] == [None, callers[1], callers[2]]


def test_a_cache_of_zero_seconds_keeps_nothing():
    cache = TokenCache(seconds=0, clock=Clock())
    cache.put("k", caller(1))
    assert cache.get("k") is None
