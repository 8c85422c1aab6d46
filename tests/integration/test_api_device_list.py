"""The device list: one statement per page, with the same answers as before it was one statement."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fleet.api.views import device_row_dict
from inventory.queries import LIST_FIELDS

DEVICES = "/api/v1/devices"


def listed(client, headers, query: str) -> dict:
    response = client.get(f"{DEVICES}?{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_every_page_carries_the_total_even_past_the_end(client, admin, make_school, make_device):
    school = make_school(code="gs-a")
    for n in range(5):
        make_device(school, hostname=f"nb-{n}")
    pages = [listed(client, admin, f"school=gs-a&per_page=2&page={page}") for page in (1, 3, 4)]
    assert [page["count"] for page in pages] == [5, 5, 5]
    assert [[d["hostname"] for d in page["results"]] for page in pages] == [["nb-0", "nb-1"], ["nb-4"], []]


def test_a_school_without_devices_is_an_empty_page_not_an_error(client, admin, make_school):
    make_school(code="gs-a")
    assert listed(client, admin, "school=gs-a&page=3") == {"count": 0, "page": 3, "per_page": 50, "results": []}


def test_several_schools_list_the_devices_of_each(client, admin, make_school, make_device):
    a, b, c = make_school(code="gs-a"), make_school(code="gs-b"), make_school(code="gs-c")
    for school in (a, b, c):
        make_device(school, hostname=f"nb-{school.code}")
    page = listed(client, admin, "school=gs-a&school=gs-c&sort=-school")
    assert [d["school"] for d in page["results"]] == ["gs-c", "gs-a"]
    assert page["count"] == 2


@pytest.mark.parametrize("query", ["school=gs-a&school=nope", "school=nope&page=2", "school=nope&sort=colour"])
def test_an_unknown_school_is_a_404_whatever_else_is_asked(client, admin, make_school, make_device, query):
    make_device(make_school(code="gs-a"))
    response = client.get(f"{DEVICES}?{query}", headers=admin)
    assert response.status_code == 404
    assert response.json["fields"] == {"school": ["unknown school 'nope'"]}


def test_a_bad_sort_is_a_422_naming_the_field(client, admin, make_school):
    make_school(code="gs-a")
    response = client.get(f"{DEVICES}?school=gs-a&sort=hostname,colour", headers=admin)
    assert response.status_code == 422
    assert response.json["message"] == "cannot sort by 'colour'"
    assert "sort" in response.json["fields"]


def test_filtering_and_sorting_by_room_or_school_work_together(client, admin, make_school, make_device):
    a, b = make_school(code="gs-a", rooms=("A101", "B202")), make_school(code="gs-b", rooms=("A101",))
    make_device(a, room="B202", hostname="a-b202")
    make_device(a, room="A101", hostname="a-a101")
    make_device(b, room="A101", hostname="b-a101")
    make_device(a, hostname="a-none")
    by_room = listed(client, admin, "room=A101&room=B202&sort=-room,school")
    assert [d["hostname"] for d in by_room["results"]] == ["a-b202", "a-a101", "b-a101"]
    by_school = listed(client, admin, "school=gs-a&sort=school,room,hostname")
    assert by_school["count"] == 3
    assert {d["hostname"] for d in by_school["results"]} == {"a-b202", "a-a101", "a-none"}


def test_the_list_sorts_macs_while_the_detail_keeps_them_in_interface_order(client, admin, make_school, make_device):
    device = make_device(make_school(), interfaces=[{"mac": "00:1a:2b:3c:4d:5f"}, {"mac": "00:1a:2b:3c:4d:5e"}])
    assert listed(client, admin, "")["results"][0]["macs"] == ["00:1a:2b:3c:4d:5e", "00:1a:2b:3c:4d:5f"]
    detail = client.get(f"{DEVICES}/{device.id}", headers=admin).json
    assert detail["macs"] == ["00:1a:2b:3c:4d:5f", "00:1a:2b:3c:4d:5e"]


def test_q_finds_slashes_and_macs_as_plain_text(client, admin, make_school, make_device):
    school = make_school()
    make_device(school, serial="AB/12")
    make_device(school, serial="AB12", interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    assert listed(client, admin, "q=b/1")["count"] == 1
    assert listed(client, admin, "q=//")["count"] == 0
    assert [d["serial"] for d in listed(client, admin, "q=3c:4d")["results"]] == ["AB12"]


def test_every_filter_at_once_still_counts_right(client, admin, make_school, make_device, db):
    school = make_school(code="gs-a", subnets=["10.9.0.0/24"])
    parent = make_device(school, kind="interactive_display", serial="D-1")
    match = make_device(school, room="A101", kind="ops_pc", hostname="ops-1", ip="10.9.0.5", grant="DP-1",
                        parent_id=parent.id, interfaces=[{"mac": "00:1a:2b:3c:4d:5e"}])
    make_device(school, room="A101", kind="ops_pc", hostname="ops-2", ip="10.9.0.6", grant="DP-1")
    match.last_seen_at = datetime(2026, 3, 1, tzinfo=UTC)
    db.session.commit()
    query = ("school=gs-a&room=A101&kind=ops_pc&status=active&q=OPS&mac=00-1A-2B-3C-4D-5E&within=10.9.0.0/24"
             f"&seen_since=2026-02-01T00:00:00Z&grant=DP-1&parent_id={parent.id}")
    page = listed(client, admin, query)
    assert (page["count"], [d["hostname"] for d in page["results"]]) == (1, ["ops-1"])


def test_list_rows_unpack_in_the_order_the_query_selects():
    # Each value is its own column name, so a field shifted by one shows up under the wrong key.
    shown = device_row_dict(tuple(LIST_FIELDS))
    assert shown["id"] == "id" and shown["hostname"] == "hostname" and shown["macs"] == "macs"
    assert (shown["grant"], shown["category"]) == ("grant_ref", "funding_category")
    assert shown["last_seen"] == {"at": "last_seen_at", "ip": "last_seen_ip", "where": "last_seen_where"}
    assert (shown["school"], shown["room"], shown["updated_at"]) == ("school", "room", "updated_at")


def test_list_values_become_text_the_way_the_detail_shows_them(client, admin, make_school, make_device, db):
    device = make_device(make_school(), purchase_date=date(2024, 3, 1), warranty_end=date(2029, 2, 28),
                         price_net=Decimal("0.00"), price_gross=Decimal("950.81"))
    device.last_seen_at = datetime(2026, 3, 1, 7, 30, 0, 1234, tzinfo=UTC)
    db.session.commit()
    row = listed(client, admin, "")["results"][0]
    assert (row["purchase_date"], row["warranty_end"]) == ("2024-03-01", "2029-02-28")
    assert (row["price_net"], row["price_gross"]) == ("0.00", "950.81")
    assert row["last_seen"]["at"] == "2026-03-01T07:30:00.001234+00:00"
    detail = client.get(f"{DEVICES}/{device.id}", headers=admin).json
    assert {key: detail[key] for key in row} == row
