"""Reconciliation: inventory and observations in, matches and findings out; tables of cases, then properties."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.reconcile import Known, Seen, is_randomised, reconcile

SCHOOL = "gs-linden"
A, B, C, D = "00:02:75:00:00:0a", "00:02:75:00:00:0b", "6c:dc:6a:00:00:0c", "18:84:c1:00:00:0d"
RANDOM = "da:a1:19:00:00:01"
X, Y = "10.12.0.5", "10.12.0.6"
PORT_3, PORT_12 = "switch sw1 port 3", "switch sw1 port 12"


def dev(id=1, *macs, serial=None, school=SCHOOL, status="active", hostname=None, room=None, where=None, unseen=0):
    return Known(id=id, school=school, status=status, serial=serial, macs=frozenset(macs), hostname=hostname,
                 room=room, last_where=where, unseen_runs=unseen)


def obs(ip=X, mac=None, **fields):
    return Seen(ip=ip, mac=mac, **fields)


def run(known=(), seen=(), missing_after=3, open_findings=()):
    return reconcile(known, seen, SCHOOL, missing_after, open_findings)


def found(result):
    return [(f.kind, f.key) for f in result.findings]


def matched_ids(result):
    return [device_id for device_id, _ in result.matched]


@pytest.mark.parametrize("case", [
    dict(name="a serial identifies its device and teaches it the MAC it shows",
         known=[dev(1, A, serial="S1")], seen=[obs(mac=B, serial="S1")], matched=[1], new_macs=[(1, B)]),
    dict(name="a universal MAC identifies its device",
         known=[dev(1, A, serial="S1")], seen=[obs(mac=A)], matched=[1]),
    dict(name="a device without a serial learns the one its MAC's host reports, and that host's other MACs",
         known=[dev(1, A)], seen=[obs(mac=A, serial="S9"), obs(Y, B, serial="S9")],
         matched=[1], new_serials=[(1, "S9")], new_macs=[(1, B)]),
    dict(name="the serial of one device and the MAC of another are a conflict",
         known=[dev(1, A, serial="S1"), dev(2, B, serial="S2")], seen=[obs(mac=B, serial="S1")],
         findings=[("conflict", "serial:S1")]),
    dict(name="a MAC whose host reports another serial than recorded is a conflict",
         known=[dev(1, A, serial="S1")], seen=[obs(mac=A, serial="S9")], findings=[("conflict", "serial:S9")]),
    dict(name="a host reporting two serials for a device without one is a conflict",
         known=[dev(1, A)], seen=[obs(mac=A, serial="S8"), obs(Y, A, serial="S9")],
         findings=[("conflict", "serial:S8")]),
    dict(name="an unknown universal MAC is new", seen=[obs(mac=C)], findings=[("new", f"mac:{C}")]),
    dict(name="an unknown serial is new and names the finding",
         seen=[obs(mac=C, serial="S9")], findings=[("new", "serial:S9")]),
    dict(name="a randomised MAC raises nothing", seen=[obs(mac=RANDOM)], unidentified=1),
    dict(name="a recorded randomised MAC does not identify its device",
         known=[dev(1, RANDOM)], seen=[obs(mac=RANDOM)], unidentified=1),
    dict(name="a serial match does not learn a randomised MAC",
         known=[dev(1, A, serial="S1")], seen=[obs(mac=RANDOM, serial="S1")], matched=[1]),
    dict(name="a retired device on the network is reported, not matched",
         known=[dev(1, A, serial="S1", status="retired")], seen=[obs(mac=A)], findings=[("changed", "device:1")]),
    dict(name="a live device wins a MAC a retired one had",
         known=[dev(1, A, status="retired"), dev(2, A)], seen=[obs(mac=A)], matched=[2]),
    dict(name="a retired device's serial on a live device's MAC is a conflict",
         known=[dev(1, serial="S1", status="retired"), dev(2, A, serial="S2")], seen=[obs(mac=A, serial="S1")],
         findings=[("conflict", "serial:S1")]),
    dict(name="an empty serial from SNMP is no serial",
         known=[dev(1, A)], seen=[obs(mac=A, serial="")], matched=[1]),
    dict(name="a ping without MAC or serial identifies nothing",
         known=[dev(1, A)], seen=[obs()], unidentified=1),
], ids=lambda case: case["name"])
def test_identity(case):
    result = run(case.get("known", []), case["seen"])
    assert matched_ids(result) == case.get("matched", [])
    assert list(result.new_macs) == case.get("new_macs", [])
    assert list(result.new_serials) == case.get("new_serials", [])
    assert found(result) == case.get("findings", [])
    assert result.unidentified == case.get("unidentified", 0)


def test_arp_snmp_and_switch_records_of_one_host_merge_into_one_match():
    arp, snmp = obs(mac=C), obs(serial="S1", hostname="a101-board", model="IFP7550")
    fdb = obs(None, C, where=PORT_3)
    result = run([dev(1, A, serial="S1")], [fdb, snmp, arp])
    assert result.matched == ((1, Seen(ip=X, mac=C, serial="S1", hostname="a101-board", where=PORT_3,
                                       model="IFP7550")),)
    assert result.new_macs == ((1, C),)


def test_a_new_host_seen_by_arp_and_snmp_is_one_finding():
    result = run([], [obs(mac=C), obs(serial="S9", vendor="SMART")])
    assert found(result) == [("new", "serial:S9")]
    assert result.findings[0].seen == Seen(ip=X, mac=C, serial="S9", vendor="SMART")


def test_one_mac_at_two_addresses_is_one_new_host():
    assert found(run([], [obs(X, C), obs(Y, C)])) == [("new", f"mac:{C}")]


def test_the_two_interfaces_of_one_device_are_one_match():
    result = run([dev(1, A, B)], [obs(X, A), obs(Y, B)])
    assert matched_ids(result) == [1]
    assert result.matched[0][1].ip == X


def test_an_address_with_two_macs_lends_neither_to_a_record_without_one():
    result = run([dev(1, serial="S1")], [obs(mac=C), obs(mac=D), obs(serial="S1")])
    assert (matched_ids(result), result.new_macs) == ([1], ())
    assert found(result) == sorted([("new", f"mac:{C}"), ("new", f"mac:{D}")])


def test_a_randomised_snmp_mac_gives_way_to_the_real_one_of_the_host():
    result = run([dev(1, A, serial="S1")], [obs(mac=RANDOM, serial="S1"), obs(None, A, where=PORT_3)])
    assert result.matched[0][1].mac == A


def test_a_retired_device_seen_by_serial_and_by_mac_is_reported_once():
    result = run([dev(1, A, serial="S1", status="retired")], [obs(Y, A), obs(X, serial="S1")])
    assert [(f.kind, f.key, f.seen) for f in result.findings] == [("changed", "device:1", obs(X, serial="S1"))]


def test_a_conflict_says_which_devices_the_host_claims_to_be():
    known = [dev(1, A, serial="S1", hostname="lt-01"), dev(2, B, serial="S2", hostname="lt-02")]
    (finding,) = run(known, [obs(mac=B, serial="S1")]).findings
    assert (finding.device_id, finding.detail) == (1, (
        f"One host carries the identities of device 1 (lt-01) (serial S1), device 2 (lt-02) (MAC {B}); "
        f"seen at {X}, MAC {B}, serial S1."))


def test_devices_named_in_a_conflict_count_as_seen():
    known = [dev(1, A, serial="S1", unseen=2), dev(2, B, serial="S2", unseen=2)]
    result = run(known, [obs(mac=B, serial="S1")])
    assert (result.matched, result.unseen) == ((), {1: 0, 2: 0})


@pytest.mark.parametrize("seen_name, hinted", [
    ("LT-0042.schule.local", True),
    ("lt-0043", False),
])
def test_a_hostname_alone_only_hints_and_keeps_the_device_from_going_missing(seen_name, hinted):
    result = run([dev(1, A, hostname="lt-0042", unseen=1)], [obs(mac=RANDOM, hostname=seen_name)])
    assert (result.matched, result.findings) == ((), ())
    assert [device_id for device_id, _ in result.hinted] == ([1] if hinted else [])
    assert result.unseen == {1: 0 if hinted else 2}
    assert result.unidentified == (0 if hinted else 1)


def test_a_hostname_never_outweighs_an_unknown_mac():
    result = run([dev(1, A, hostname="lt-0042")], [obs(mac=C, hostname="lt-0042")])
    assert (matched_ids(result), found(result), result.unseen) == ([], [("new", f"mac:{C}")], {1: 1})
    assert result.findings[0].detail == (f"Unknown host at {X}, MAC {C}, hostname lt-0042; "
                                         "its hostname is recorded for device 1 (lt-0042).")


@pytest.mark.parametrize("known", [
    [dev(1, A, hostname="lt-0042"), dev(2, B, hostname="LT-0042")],
    [dev(1, A, hostname="lt-0042", school="gs-nord")],
    [dev(1, A, hostname="lt-0042", status="retired")],
], ids=["shared by two devices", "of another school", "of a retired device"])
def test_a_hostname_hints_only_at_one_live_device_of_this_school(known):
    result = run(known, [obs(hostname="lt-0042")])
    assert (result.hinted, result.unidentified) == ((), 1)


@pytest.mark.parametrize("device, seen, moved", [
    (dev(1, A, school="gs-nord"), obs(mac=A), "recorded at school gs-nord, seen at school gs-linden"),
    (dev(1, A, where=PORT_3), obs(mac=A, where=PORT_12), f"last seen at {PORT_3}, now at {PORT_12}"),
    (dev(1, A, room="A101"), obs(mac=A, room="B202"), "recorded in room A101, seen in room B202"),
    (dev(1, A), obs(mac=A, where=PORT_12), None),
    (dev(1, A, where=PORT_3, room="A101"), obs(mac=A, where=PORT_3, room="A101"), None),
    (dev(1, A, where=PORT_3), obs(mac=A), None),
], ids=["another school", "another switch port", "another room", "a first sighting of a port",
        "the recorded place", "no place seen"])
def test_a_matched_device_has_moved_when_its_place_differs(device, seen, moved):
    result = run([device], [seen])
    assert matched_ids(result) == [1]
    assert [f.detail for f in result.findings] == ([f"device 1 has moved: {moved}."] if moved else [])
    assert result.unseen == {1: 0}


@pytest.mark.parametrize("status, changed", [
    ("active", False), ("loaned", False),
    ("missing", True), ("in_stock", True), ("planned", True), ("ordered", True), ("repair", True),
])
def test_a_device_seen_while_recorded_off_the_network_is_matched_and_changed(status, changed):
    result = run([dev(1, A, status=status)], [obs(mac=A)])
    assert matched_ids(result) == [1]
    assert [f.detail for f in result.findings] == (
        [f"device 1 is recorded as {status} but is on the network (at {X}, MAC {A})."] if changed else [])


@pytest.mark.parametrize("status, unseen, missing_after, counted, missing", [
    ("active", 0, 3, 1, False),
    ("active", 1, 3, 2, False),
    ("active", 2, 3, 3, True),
    ("active", 5, 3, 6, True),
    ("loaned", 2, 3, 3, True),
    ("active", 0, 1, 1, True),
    ("in_stock", 7, 3, 0, False),
    ("planned", 7, 3, 0, False),
    ("ordered", 7, 3, 0, False),
    ("repair", 7, 3, 0, False),
    ("missing", 7, 3, 0, False),
])
def test_an_expected_device_is_missing_after_n_unseen_runs(status, unseen, missing_after, counted, missing):
    result = run([dev(1, A, status=status, unseen=unseen)], [], missing_after=missing_after)
    assert result.unseen == {1: counted}
    assert found(result) == ([("missing", "device:1")] if missing else [])


def test_missing_says_how_long_in_a_sentence():
    (finding,) = run([dev(1, A, hostname="lt-0042", unseen=2)], []).findings
    assert (finding.device_id, finding.seen, finding.detail) == (
        1, None, "device 1 (lt-0042) was not seen in 3 consecutive runs.")


@pytest.mark.parametrize("open_findings, missing", [
    ([("missing", "device:1")], False),
    ([("moved", "device:1")], True),
    ([("missing", "device:2")], True),
])
def test_missing_is_not_raised_again_while_open_or_ignored(open_findings, missing):
    result = run([dev(1, A, unseen=4)], [], open_findings=open_findings)
    assert found(result) == ([("missing", "device:1")] if missing else [])
    assert result.unseen == {1: 5}


def test_a_seen_device_starts_counting_again():
    assert run([dev(1, A, unseen=7)], [obs(mac=A)]).unseen == {1: 0}


def test_only_this_schools_live_devices_count_and_a_visitor_from_elsewhere_is_seen():
    known = [dev(1, A, school="gs-nord", unseen=2), dev(2, B, school="gs-nord", unseen=2),
             dev(3, C, status="retired", unseen=2)]
    result = run(known, [obs(mac=B)])
    assert (result.unseen, found(result)) == ({2: 0}, [("moved", "device:2")])


def test_nothing_is_deleted_for_not_being_seen():
    result = run([dev(1, A, unseen=9)], [])
    assert (result.matched, result.new_macs, found(result)) == ((), (), [("missing", "device:1")])


def test_second_identical_run_changes_nothing():
    known = [dev(1, A, serial="S1", where=PORT_3), dev(2, B, serial="S2", school="gs-nord"), dev(3, unseen=2),
             dev(4, C, status="in_stock"), dev(5, D, serial="S5"), dev(6, "00:02:75:00:00:06", serial="S6")]
    seen = [obs(mac=A, where=PORT_12), obs(Y, B), obs("10.12.0.7", C), obs("10.12.0.8", "00:0b:14:00:00:01"),
            obs("10.12.0.9", D, serial="S6"), obs("10.12.0.10", RANDOM)]
    first = run(known, seen)
    assert sorted(kind for kind, _ in found(first)) == ["changed", "conflict", "missing", "moved", "moved", "new"]
    second = run(known, seen, open_findings=found(first))
    assert second.findings == ()
    assert (second.matched, second.new_macs, second.unseen) == (first.matched, first.new_macs, first.unseen)


def test_an_open_new_finding_covers_the_host_once_snmp_tells_its_serial():
    first = run([], [obs(mac=C)])
    assert run([], [obs(mac=C), obs(serial="S9")], open_findings=found(first)).findings == ()


@pytest.mark.parametrize("mac, randomised", [(RANDOM, True), ("02:00:00:00:00:01", True), (A, False),
                                             ("00:0b:14:00:00:01", False)])
def test_the_locally_administered_bit_marks_randomised_macs(mac, randomised):
    assert is_randomised(mac) is randomised


# Properties over small worlds, where identifiers collide often.
MACS = [f"00:02:75:00:00:{n:02x}" for n in range(6)] + ["da:a1:19:00:00:01", "9e:00:00:00:00:02"]
SERIALS = [f"S{n}" for n in range(5)]
STATUSES = ["active", "active", "loaned", "in_stock", "missing", "retired"]


@st.composite
def inventories(draw):
    """Live devices hold distinct serials and MACs, as the database ensures; retired ones may share them."""
    count = draw(st.integers(0, 5))
    macs = draw(st.permutations(MACS))
    known = []
    for n in range(count):
        status = draw(st.sampled_from(STATUSES))
        if status == "retired":
            serial = draw(st.sampled_from([None, *SERIALS]))
            own = draw(st.frozensets(st.sampled_from(MACS), max_size=2))
        else:
            serial = draw(st.sampled_from([None, SERIALS[n]]))
            own = frozenset(macs[n * 2:n * 2 + draw(st.integers(0, 2))])
        known.append(Known(id=n + 1, school=draw(st.sampled_from([SCHOOL, SCHOOL, "gs-nord"])), status=status,
                           serial=serial, macs=own, hostname=draw(st.sampled_from([None, "h1", "h2"])),
                           room=draw(st.sampled_from([None, "A101"])),
                           last_where=draw(st.sampled_from([None, PORT_3])), unseen_runs=draw(st.integers(0, 3))))
    return known


observations = st.lists(st.builds(
    Seen,
    ip=st.sampled_from([None, X, Y, "10.12.0.7"]),
    mac=st.sampled_from([None, *MACS, C]),
    serial=st.sampled_from([None, "", *SERIALS, "S9"]),
    hostname=st.sampled_from([None, "h1", "H2.schule.local"]),
    where=st.sampled_from([None, PORT_3, PORT_12]),
    room=st.sampled_from([None, "A101", "B202"]),
), max_size=8)


@given(inventories(), observations, st.randoms(use_true_random=False), st.integers(1, 3))
def test_the_order_and_repetition_of_observations_do_not_matter(known, seen, rng, missing_after):
    shuffled = seen * 2
    rng.shuffle(shuffled)
    assert run(known, shuffled, missing_after) == run(known, seen, missing_after)


@given(inventories(), observations, st.integers(1, 3))
def test_a_second_identical_run_with_the_findings_fed_back_raises_nothing(known, seen, missing_after):
    first = run(known, seen, missing_after)
    second = run(known, seen, missing_after, found(first))
    assert second.findings == ()
    assert (second.matched, second.hinted, second.new_macs, second.new_serials, second.unseen) == (
        first.matched, first.hinted, first.new_macs, first.new_serials, first.unseen)


@given(inventories(), observations, st.integers(1, 3))
def test_what_a_run_teaches_is_learned_in_that_run(known, seen, missing_after):
    first = run(known, seen, missing_after)
    serials, wheres = dict(first.new_serials), {d: host.where for d, host in first.matched if host.where}
    taught = [replace(d, serial=serials.get(d.id, d.serial), last_where=wheres.get(d.id, d.last_where),
                      macs=d.macs | {mac for device_id, mac in first.new_macs if device_id == d.id}) for d in known]
    second = run(taught, seen, missing_after, found(first))
    assert (second.new_macs, second.new_serials, second.findings) == ((), (), ())
    assert matched_ids(second) == matched_ids(first)


@given(inventories(), observations, st.integers(1, 3))
def test_every_result_keeps_the_invariants(known, seen, missing_after):
    result = run(known, seen, missing_after)
    live = {mac: d.id for d in known if d.status != "retired" for mac in d.macs}
    keys = found(result)
    assert len(keys) == len(set(keys))
    matched, hinted = matched_ids(result), [device_id for device_id, _ in result.hinted]
    missing = [f.device_id for f in result.findings if f.kind == "missing"]
    assert len(set(matched)) == len(matched)
    assert not set(matched) & (set(missing) | set(hinted))
    assert all(result.unseen[device_id] == 0 for device_id in matched + hinted)
    assert not any(is_randomised(mac) or mac in live for _, mac in result.new_macs)
    new_macs = [f.seen.mac for f in result.findings if f.kind == "new" and f.seen.mac]
    assert len(new_macs) == len(set(new_macs))
    assert not any(key.startswith("mac:") and is_randomised(key[4:]) for _, key in keys)
    retired = {d.id for d in known if d.status == "retired"}
    assert not (set(matched) | set(result.unseen)) & retired
