"""The Netzwerkerkennung pages: runs and what they saw, asking for a run now, and the review queue of findings."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from discovery import runs
from discovery.collect import Collected, Record
from discovery.models import DiscoveryRun, Finding, Observation
from inventory.audit import acting_as
from inventory.models import AuditEvent, Device
from inventory.users import create_user

from .test_findings import add_finding, add_run
from .test_ui_auth import PASSWORD, BrowserClient, csrf_token, sign_in, text

BOARD_MAC, PRINTER_MAC, OTHER_MAC = "6c:dc:6a:00:00:99", "00:00:74:aa:bb:01", "00:02:75:00:00:0a"


@pytest.fixture
def client(app, db):
    return BrowserClient(app, app.response_class, use_cookies=True)


@pytest.fixture
def linden(make_school):
    return make_school("gs-linden", rooms=("A101", "A102"))


@pytest.fixture
def nord(make_school):
    return make_school("os-nord", rooms=("B1",))


def user(db, name="anna", role="admin", schools=(), locale=None):
    return create_user(name, PASSWORD, role, schools=list(schools))


def signed_in(client, db, name="anna", role="admin", schools=()):
    user(db, name, role, schools)
    sign_in(client, name)
    return client


def post(client, page_url, action, fields):
    """Send a form of page_url with the page's CSRF token, as a browser does (a page without a form of its own
    still has the sign-out form's, which is the same session token)."""
    page = text(client.get(page_url))
    token = csrf_token(page) if 'name="csrf_token"' in page else csrf_token(page, "logout-csrf_token")
    return client.post(action, data={"csrf_token": token, **fields})


def flashes(response) -> list[str]:
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', text(response),
                                                               re.S)]


def row(page: str, attribute: str, value) -> str:
    match = re.search(rf'<tr data-{attribute}="{value}".*?</tr>', page, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(0)


def counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="([\w-]+)">([^<]*)<', html))


def real_run(school) -> DiscoveryRun:
    """A run through the run service: two hosts seen, one per-host error, findings raised by reconciling."""
    with acting_as("user:anna"):
        run = runs.start_run(school, "manual")
    collected = Collected(records=(
        Record(source="snmp", ip="10.1.0.30", mac=BOARD_MAC, hostname="board-a102", sys_descr="SMART Board MX275",
               vendor="SMART Technologies", kind="interactive_display", switch="sw-core", port="Gi1/0/7"),
        Record(source="arp", ip="10.1.0.31", mac=PRINTER_MAC, vendor="Brother")),
        errors=({"ip": "10.1.0.40", "message": "SNMP timeout"},), probed=254, alive=2, snmp=1)
    return runs.apply_run(run.id, collected)


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- runs -----------------------------------------------------------------------------------------------------------

def test_the_runs_list_shows_a_run_with_its_counts_and_errors_in_german(client, db, linden):
    run = real_run(linden)
    page = text(signed_in(client, db).get("/discovery"))
    assert "<h1>Netzwerkerkennung</h1>" in page
    line = row(page, "run", run.id)
    assert "Grundschule" not in line and "gs-linden" in line and "manuell" in line and "erfolgreich" in line
    assert counts(line) == {"probed": "254", "alive": "2", "snmp": "1", "matched": "0", "new": "2", "moved": "0",
                            "missing": "0", "conflict": "0", "errors": "1"}


def test_the_runs_list_filters_by_status_and_speaks_english(client, db, linden, nord):
    ok, failed = add_run(db, linden), add_run(db, nord, status="failed")
    signed_in(client, db)
    post(client, "/discovery", "/language", {"language-locale": "en", "language-next": "/"})
    page = text(client.get("/discovery?status=failed"))
    assert "<h1>Discovery</h1>" in page and f'data-run="{failed.id}"' in page and f'data-run="{ok.id}"' not in page


def test_the_run_page_shows_errors_and_observations(client, db, linden):
    run = real_run(linden)
    page = text(signed_in(client, db).get(f"/discovery/runs/{run.id}"))
    assert "10.1.0.40" in page and "SNMP timeout" in page
    assert "board-a102" in page and BOARD_MAC in page and "sw-core / Gi1/0/7" in page and PRINTER_MAC in page
    assert "SMART Board MX275" in page and "interactive_display" not in page  # the kind is named in words


def test_a_limited_user_sees_only_its_schools_runs(client, db, linden, nord):
    mine, theirs = add_run(db, linden), add_run(db, nord)
    page = text(signed_in(client, db, "sam", "support", ["gs-linden"]).get("/discovery"))
    assert f'data-run="{mine.id}"' in page and f'data-run="{theirs.id}"' not in page
    assert client.get(f"/discovery/runs/{theirs.id}").status_code == 403


# --- run now ----------------------------------------------------------------------------------------------------------

def test_run_now_queues_one_request_and_refuses_a_second(client, db, linden):
    signed_in(client, db)
    first = post(client, "/discovery", "/discovery/request", {"school": "gs-linden"})
    assert first.status_code == 302
    queued = db.session.scalars(select(DiscoveryRun)).one()
    assert (queued.status, queued.trigger, queued.actor) == ("queued", "manual", "user:anna")
    page = client.get("/discovery")
    assert flashes(page) == [f"Lauf {queued.id} von Schule 1 ist eingereiht; der Planer startet ihn in wenigen "
                             f"Sekunden."]
    assert "Wartet auf den Planer" in text(page) and row(text(page), "run", queued.id)
    post(client, "/discovery", "/discovery/request", {"school": "gs-linden"})
    [refusal] = flashes(client.get("/discovery"))
    assert refusal.startswith("Ein Lauf von Schule 1 wartet schon auf den Planer (angefordert ")
    assert count(db, DiscoveryRun) == 1


def test_a_request_no_scheduler_took_says_so_on_the_run_page(client, db, linden):
    with acting_as("user:anna"):
        run = runs.request_run("gs-linden")
    run.created_at -= timedelta(minutes=5)
    db.session.commit()
    page = re.sub(r"\s+", " ", text(signed_in(client, db).get(f"/discovery/runs/{run.id}")))
    assert "Dieser Lauf wartet auf den Planer-Prozess (fleet scheduler)" in page
    assert "Noch hat ihn kein Planer gestartet; läuft fleet scheduler?" in page
    assert "läuft fleet scheduler?" in text(client.get("/discovery"))


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_a_viewer_or_finance_user_cannot_request_a_run(client, db, linden, role):
    signed_in(client, db, "vera", role)
    assert "/discovery/request" not in text(client.get("/discovery"))
    response = post(client, "/discovery", "/discovery/request", {"school": "gs-linden"})
    assert response.status_code == 403
    assert count(db, DiscoveryRun) == 0


def test_a_limited_supporter_cannot_request_another_school_s_run(client, db, linden, nord):
    signed_in(client, db, "sam", "support", ["gs-linden"])
    assert post(client, "/discovery", "/discovery/request", {"school": "os-nord"}).status_code == 403
    assert count(db, DiscoveryRun) == 0


def test_a_request_without_its_csrf_token_is_refused(client, db, linden):
    signed_in(client, db)
    assert client.post("/discovery/request", data={"school": "gs-linden"}).status_code == 400
    assert count(db, DiscoveryRun) == 0


# --- the review queue -------------------------------------------------------------------------------------------------

def test_the_review_queue_filters_by_kind_school_and_status(client, db, linden, nord, make_device):
    laptop = make_device(linden, serial="L-1")
    new = add_finding(db, linden, detail="a new host")
    missing = add_finding(db, linden, kind="missing", device=laptop, seen={}, detail="laptop not seen")
    elsewhere = add_finding(db, nord, seen={"mac": OTHER_MAC}, detail="north host")
    ignored = add_finding(db, linden, seen={"mac": PRINTER_MAC}, status="ignored", detail="ignored host")
    signed_in(client, db)

    def shown(query):
        return set(map(int, re.findall(r'<tr data-finding="(\d+)"', text(client.get("/discovery/findings" + query)))))
    assert shown("") == {new.id, missing.id, elsewhere.id}
    assert shown("?kind=missing") == {missing.id}
    assert shown("?school=os-nord") == {elsewhere.id}
    assert shown("?status=ignored") == {ignored.id}
    assert shown("?status=all&school=gs-linden") == {new.id, missing.id, ignored.id}
    page = text(client.get("/discovery/findings?kind=missing"))
    assert f'href="/devices/{laptop.id}"' in page and "laptop not seen" in page and "vermisst" in page


def test_accepting_a_new_finding_into_a_room_creates_the_device(client, db, linden):
    run = real_run(linden)
    finding = db.session.scalar(select(Finding).where(Finding.key == f"mac:{BOARD_MAC}"))
    signed_in(client, db)
    page = text(client.get(f"/discovery/findings/{finding.id}"))
    assert '<option value="A102">A102 – Raum A102</option>' in page
    response = post(client, f"/discovery/findings/{finding.id}", f"/discovery/findings/{finding.id}/accept",
                    {"room": "A102"})
    assert flashes(client.get(response.headers["Location"])) == ["1 Befund übernommen"]
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    device = db.session.get(Device, finding.device_id)
    assert (finding.status, device.room.code, device.kind, device.school.code) == (
        "accepted", "A102", "interactive_display", "gs-linden")
    assert [i.mac for i in device.interfaces] == [BOARD_MAC] and run.id == finding.first_run_id
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "finding",
                                                        AuditEvent.object_id == finding.id)).one()
    assert (event.action, event.actor) == ("accept", "user:anna")


def test_ignoring_keeps_the_note_and_reopening_undoes_it(client, db, linden):
    finding = add_finding(db, linden)
    signed_in(client, db)
    url = f"/discovery/findings/{finding.id}"
    post(client, url, url + "/ignore", {"note": "Lehrer-Handy, privat"})
    db.session.expire_all()
    assert (db.session.get(Finding, finding.id).status, db.session.get(Finding, finding.id).note) == (
        "ignored", "Lehrer-Handy, privat")
    assert "Lehrer-Handy, privat" in text(client.get(url))
    post(client, url, url + "/reopen", {})
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == "open"


def test_linking_searches_devices_and_links_the_chosen_one(client, db, linden, make_device):
    board = make_device(linden, kind="interactive_display", serial="SB-77", hostname="tafel-a101")
    finding = add_finding(db, linden)
    signed_in(client, db)
    url = f"/discovery/findings/{finding.id}"
    page = text(client.get(url + "?q=SB-77"))
    assert f'name="device" value="{board.id}"' in page
    post(client, url, url + "/link", {"device": str(board.id)})
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == "linked"
    assert BOARD_MAC in [i.mac for i in db.session.get(Device, board.id).interfaces]


def test_accepting_a_conflict_is_refused_with_the_service_s_hint(client, db, linden):
    finding = add_finding(db, linden, kind="conflict")
    signed_in(client, db)
    url = f"/discovery/findings/{finding.id}"
    client.post(url + "/accept", data={"csrf_token": csrf_token(text(client.get(url)))})
    [message] = flashes(client.get(url))
    assert message.startswith("Abgelehnt: finding") and "link the finding to the device" in message
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == "open"


def test_a_bulk_accept_takes_both_findings(client, db, linden):
    one = add_finding(db, linden, seen={"mac": BOARD_MAC})
    two = add_finding(db, linden, seen={"mac": PRINTER_MAC})
    signed_in(client, db)
    response = post(client, "/discovery/findings", "/discovery/findings/bulk",
                    {"action": "accept", "ids": [str(one.id), str(two.id)], "room": "A101"})
    assert flashes(client.get(response.headers["Location"])) == ["2 Befunde übernommen"]
    db.session.expire_all()
    assert {db.session.get(Finding, f.id).status for f in (one, two)} == {"accepted"}
    assert count(db, Device, Device.room_id.is_not(None)) == 2


def test_a_bulk_with_one_bad_finding_changes_nothing_and_names_the_refusal(client, db, linden):
    good = add_finding(db, linden, seen={"mac": BOARD_MAC})
    bad = add_finding(db, linden, seen={"mac": "02:11:22:33:44:55"})  # only a randomised MAC: nothing to keep
    signed_in(client, db)
    response = post(client, "/discovery/findings", "/discovery/findings/bulk",
                    {"action": "accept", "ids": [str(good.id), str(bad.id)]})
    messages = flashes(client.get(response.headers["Location"]))
    assert messages[0] == "Nichts wurde geändert: 1 von 2 Befunden wurden abgelehnt."
    assert messages[1].startswith(f"Befund {bad.id}: finding {bad.id}: the host showed only the randomised MAC")
    db.session.expire_all()
    assert {db.session.get(Finding, f.id).status for f in (good, bad)} == {"open"}
    assert count(db, Device) == 0


def test_a_limited_supporter_sees_only_its_schools_findings_and_may_not_act_on_others(client, db, linden, nord):
    mine = add_finding(db, linden, detail="host in Linden")
    theirs = add_finding(db, nord, seen={"mac": OTHER_MAC}, detail="host in Nord")
    signed_in(client, db, "sam", "support", ["gs-linden"])
    page = text(client.get("/discovery/findings"))
    assert "host in Linden" in page and "host in Nord" not in page
    assert client.get(f"/discovery/findings/{theirs.id}").status_code == 403
    token = csrf_token(text(client.get(f"/discovery/findings/{mine.id}")))
    assert client.post(f"/discovery/findings/{theirs.id}/ignore", data={"csrf_token": token}).status_code == 403
    bulk = client.post("/discovery/findings/bulk", data={"csrf_token": token, "action": "ignore",
                                                         "ids": [str(mine.id), str(theirs.id)]})
    assert bulk.status_code == 403
    db.session.expire_all()
    assert {db.session.get(Finding, f.id).status for f in (mine, theirs)} == {"open"}


def test_a_viewer_may_read_the_queue_but_not_act(client, db, linden):
    finding = add_finding(db, linden)
    signed_in(client, db, "vera", "viewer")
    page = text(client.get("/discovery/findings"))
    assert f'data-finding="{finding.id}"' in page and 'id="bulk"' not in page
    response = post(client, "/discovery/findings", f"/discovery/findings/{finding.id}/ignore", {"note": "x"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == "open"


def test_an_action_without_its_csrf_token_is_refused(client, db, linden):
    finding = add_finding(db, linden)
    signed_in(client, db)
    assert client.post(f"/discovery/findings/{finding.id}/ignore", data={"note": "x"}).status_code == 400
    assert client.post("/discovery/findings/bulk", data={"action": "ignore", "ids": [str(finding.id)]}
                       ).status_code == 400
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == "open"


def test_the_queue_speaks_english_on_request(client, db, linden):
    add_finding(db, linden)
    signed_in(client, db)
    post(client, "/discovery/findings", "/language", {"language-locale": "en", "language-next": "/"})
    page = text(client.get("/discovery/findings"))
    assert "<h1>Findings</h1>" in page and "new device" in page


def test_observations_are_paged(client, db, linden):
    run = real_run(linden)
    page = text(signed_in(client, db).get(f"/discovery/runs/{run.id}?per_page=25"))
    assert count(db, Observation, Observation.run_id == run.id) == 2 and "1–2 von 2" in page
