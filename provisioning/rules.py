"""The funding rules R1–R10 of FUNDING.md as one pure function: facts in, findings out.

check(facts) reads only its argument (today included, never the clock), takes every figure from the programmes, and
returns findings sorted by rule, school, grant, programme, reason and items: equal facts in any order give equal
findings. Inconsistent facts (an item naming an unknown grant, programmes resolved for another Land) raise ValueError.

Where FUNDING.md is silent, decided here:
- Only funded items (grant set) are checked; an unfunded LAN/WLAN item still shows R2 that infrastructure is there.
- Eligibility (ledger.py): nothing in R3 excludes the item and its invoice is not outside the window; a device over
  the gross cap counts up to the cap. Eligible items are the investment in R1 and the cost in R4.
- R1 runs per programme with a mobile cap, over the school types the cap covers, on both sides of the share: a
  vocational school's large investment cannot make room for mobile devices at general schools.
- R2: infrastructure is there when the school's network_since, or a LAN/WLAN item's commissioning (else invoice) date,
  is on or before the mobile item's invoice date (else today), or when the same grant buys LAN/WLAN at that school.
- R4 is a warning while the project runs (costs may still be invoiced) and an error once it has ended.
- R6 compares the concept with the application date, else with the decision.
- R7: the grant's own due date wins over the programme's rule; the due day itself is still in time.
- R8 concerns eligible devices; retiring one on the last day of its earmark is allowed. Without a project end on
  the grant, the programme window's end stands in. A missing device, or one now at a school outside its grant, is a
  risk while the earmark runs.
- R9 and R10 concern investments (devices), not staff or service lines.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from functools import partial
from weakref import WeakKeyDictionary

from inventory.enums import DeviceStatus, FundingCategory

from .facts import Facts, Item, RuleFinding, Severity
from .ledger import CENT, INVESTMENT, ZERO, Funded, Ledger, id_key
from .wording import counted, day_de, eur_de, eur_en, pct_de, pct_en, span_de, span_en

BASIS_POINT = Decimal("0.0001")
MOBILE = FundingCategory.MOBILE.value


def check(facts: Facts, ledger: Ledger | None = None) -> tuple[RuleFinding, ...]:
    """Every finding of R1–R10 for the carrier, sorted; ledger, when given, must be Ledger(facts) (built once for a
    caller that reads it too, such as the funding report)."""
    if ledger is None:
        ledger = Ledger(facts)
    elif ledger.facts is not facts:
        raise ValueError("the ledger was built from other facts")
    costs = eligible_costs(ledger)
    rules = (partial(_r1, costs=costs), _r2, _r3, partial(_r4, costs=costs), _r5, _r6, _r7, partial(_r8, costs=costs),
             _r9, _r10)
    return tuple(sorted((finding for rule in rules for finding in rule(ledger)), key=_order))


def eligible_costs(ledger: Ledger) -> dict:
    """Per eligible item id, what it contributes to the funded cost (ledger.eligible_cost), worked out once per ledger:
    the rules ask for it several times per item, and the funding report too."""
    costs = _COSTS.get(ledger)
    if costs is None:
        costs = _COSTS[ledger] = {}
        for entry in ledger.funded:
            cost = ledger.eligible_cost(entry)
            if cost or ledger.eligible(entry):  # an eligible item may cost nothing
                costs[entry.item.id] = cost
    return costs


_COSTS: WeakKeyDictionary = WeakKeyDictionary()  # ledger → eligible_costs(ledger)


# The rules. Each yields findings; grouped ones carry every item of their school and grant.

def _r1(ledger: Ledger, costs: dict) -> Iterator[RuleFinding]:
    for code, programme in sorted(ledger.programmes.items()):
        cap = programme.mobile_cap
        if cap is None:
            continue
        entries = [entry for entry in ledger.funded if entry.programme.code == code and entry.item.cost == INVESTMENT
                   and ledger.schools[entry.item.school].type in cap.school_types and entry.item.id in costs]
        total = _sum(costs[entry.item.id] for entry in entries)
        mobile = [entry for entry in entries if entry.item.category == MOBILE]
        carrier_mobile = _sum(costs[entry.item.id] for entry in mobile)
        if carrier_mobile <= cap.share * total:
            continue  # within the carrier's share, no school breaks the cap
        share = (carrier_mobile / total).quantize(BASIS_POINT)
        for (school,), group in _groups(mobile, lambda entry: (entry.item.school,)):
            at_school = _sum(costs[entry.item.id] for entry in group)
            if at_school <= cap.per_school:
                continue
            name = ledger.school(school)
            yield _finding(
                "R1", Severity.ERROR, "mobile_cap",
                f"Mobile Endgeräte an {name} für {eur_de(at_school)}: mehr als {eur_de(cap.per_school)} je Schule, "
                f"und trägerweit {pct_de(share)} der Investitionen, mehr als {pct_de(cap.share)} ({code}).",
                f"Mobile devices at {name} cost {eur_en(at_school)}: more than {eur_en(cap.per_school)} per "
                f"school, and {pct_en(share)} of the carrier's investment, more than {pct_en(cap.share)} ({code}).",
                school=school, programme=code, items=_ids(group), school_mobile=at_school,
                school_cap=cap.per_school, carrier_mobile=carrier_mobile, carrier_investment=total,
                carrier_share=share, share_cap=cap.share)


def _r2(ledger: Ledger) -> Iterator[RuleFinding]:
    lacking = [entry for entry in ledger.funded if entry.programme.infrastructure_first
               and entry.item.cost == INVESTMENT and entry.item.category == MOBILE
               and not ledger.has_infrastructure(entry)]
    for (school, ref), group in _groups(lacking, _school_grant):
        name, count = ledger.school(school), len(group)
        yield _finding(
            "R2", Severity.ERROR, "no_infrastructure",
            f"{counted(count, 'mobiles Gerät', 'mobile Geräte')} an {name} aus {ref}, aber dort noch kein LAN/WLAN: es "
            f"muss schon vorhanden sein oder mit derselben Förderung beschafft werden.",
            f"{counted(count, 'mobile device', 'mobile devices')} at {name} from {ref}, but no LAN/WLAN there yet: it "
            f"must be in place already or bought with the same grant.",
            school=school, grant=ref, programme=group[0].programme.code, items=_ids(group), count=count,
            cost=_cost(group), network_since=ledger.schools[school].network_since)


R3_WORDS: dict[str, tuple[str, str, str]] = {
    # reason: (severity, German, English); {n}, {school}, {ref}, {programme}, {what}, {allowed} are filled in
    "kind": (Severity.ERROR, "{n} der Art {what} an {school} aus {ref}: nach {programme} nie förderfähig.",
             "{n} of kind {what} at {school} from {ref}: never fundable under {programme}."),
    "cost": (Severity.ERROR, "{n} mit Kostenart {what} an {school} aus {ref}: {programme} fördert nur {allowed}.",
             "{n} with cost type {what} at {school} from {ref}: {programme} funds only {allowed}."),
    "use": (Severity.ERROR, "{n} für die Verwaltung an {school} aus {ref}: Geräte überwiegend für Verwaltungszwecke "
                            "sind nach {programme} nicht förderfähig.",
            "{n} for administrative use at {school} from {ref}: items mainly for administration are not fundable "
            "under {programme}."),
    "category": (Severity.ERROR, "{n} der Kategorie {what} an {school} aus {ref}: {programme} fördert nur {allowed}.",
                 "{n} in category {what} at {school} from {ref}: {programme} funds only {allowed}."),
    "no_category": (Severity.WARNING, "{n} an {school} aus {ref} ohne Förderkategorie: für den Verwendungsnachweis "
                                      "nachtragen.",
                    "{n} at {school} from {ref} without a funding category: record it for the proof of use."),
}


def _r3(ledger: Ledger) -> Iterator[RuleFinding]:
    flagged = [(reason, entry) for entry in ledger.funded for reason in ledger.reasons[entry.item.id]]
    for (school, ref, reason), pairs in _groups(flagged, lambda pair: (*_school_grant(pair[1]), pair[0])):
        group = [entry for _, entry in pairs]
        programme = group[0].programme
        what = ", ".join(sorted({_r3_value(reason, entry.item) for entry in group}))
        allowed = programme.costs if reason == "cost" else programme.categories
        severity, german, english = R3_WORDS[reason]
        words = dict(school=ledger.school(school), ref=ref, programme=programme.code, what=what)
        yield _finding(
            "R3", severity, reason,
            german.format(n=counted(len(group), "Posten", "Posten"),
                          allowed=", ".join(allowed) or "keine Investitionen", **words),
            english.format(n=counted(len(group), "item", "items"), allowed=", ".join(allowed) or "no investments",
                           **words),
            school=school, grant=ref, programme=programme.code, items=_ids(group), count=len(group),
            cost=_cost(group), values=what)


def _r3_value(reason: str, item: Item) -> str:
    return {"kind": item.kind, "cost": item.cost, "use": item.use, "category": item.category}.get(reason) or "-"


def _r4(ledger: Ledger, costs: dict) -> Iterator[RuleFinding]:
    by_grant: dict[str, list[Funded]] = defaultdict(list)
    for entry in ledger.funded:
        by_grant[entry.grant.ref].append(entry)
    for ref, grant in sorted(ledger.grants.items()):
        programme = ledger.programmes[grant.programme]
        group = by_grant.get(ref, [])
        eligible = _sum(costs.get(entry.item.id, ZERO) for entry in group)
        rate = 1 - programme.own_share if grant.rate is None else min(grant.rate, 1 - programme.own_share)
        if grant.amount <= eligible * rate:
            continue
        allowed = (eligible * rate).quantize(CENT, ROUND_DOWN)
        needed = (grant.amount / rate - eligible).quantize(CENT, ROUND_UP) if rate else None
        figures = dict(amount=grant.amount, eligible_cost=eligible, rate=rate, own_share=1 - rate, allowed=allowed,
                       cost_still_needed=needed, project_end=grant.project_end)
        if grant.project_end is not None and ledger.today > grant.project_end:
            yield _finding(
                "R4", Severity.ERROR, "not_covered",
                f"{ref}: die Zuwendung von {eur_de(grant.amount)} übersteigt {pct_de(rate)} der förderfähigen "
                f"Kosten von {eur_de(eligible)}; zulässig sind höchstens {eur_de(allowed)}.",
                f"{ref}: the grant of {eur_en(grant.amount)} exceeds {pct_en(rate)} of the eligible cost of "
                f"{eur_en(eligible)}; at most {eur_en(allowed)} is allowed.",
                grant=ref, programme=programme.code, items=_ids(group), **figures)
        else:
            until_de = f" bis zum Projektende am {day_de(grant.project_end)}" if grant.project_end else ""
            until_en = f" before the project ends on {grant.project_end}" if grant.project_end else ""
            yield _finding(
                "R4", Severity.WARNING, "not_yet_covered",
                f"{ref}: die Zuwendung von {eur_de(grant.amount)} ist bisher nur bis {eur_de(allowed)} durch "
                f"förderfähige Kosten gedeckt; es fehlen noch {eur_de(needed or ZERO)}{until_de}.",
                f"{ref}: the grant of {eur_en(grant.amount)} is so far covered by eligible cost only up to "
                f"{eur_en(allowed)}; {eur_en(needed or ZERO)} of eligible cost is still needed{until_en}.",
                grant=ref, programme=programme.code, items=_ids(group), **figures)
    for code, budget in sorted(ledger.carrier.budgets.items()):
        refs = sorted(ref for ref, grant in ledger.grants.items() if grant.programme == code)
        total = _sum(ledger.grants[ref].amount for ref in refs)
        if total > budget:
            yield _finding(
                "R4", Severity.ERROR, "budget",
                f"Die Zuwendungen aus {code} betragen zusammen {eur_de(total)}, mehr als das Budget des Trägers von "
                f"{eur_de(budget)}.",
                f"The grants under {code} total {eur_en(total)}, more than the carrier's budget of "
                f"{eur_en(budget)}.",
                programme=code, granted=total, budget=budget, grants=", ".join(refs))


def _r5(ledger: Ledger) -> Iterator[RuleFinding]:
    outside = [entry for entry in ledger.funded
               if entry.item.invoice_date is not None and not entry.programme.window.contains(entry.item.invoice_date)]
    for (school, ref), group in _groups(outside, _school_grant):
        window, days = group[0].programme.window, sorted(entry.item.invoice_date for entry in group)
        name, count = ledger.school(school), len(group)
        dated_de = day_de(days[0]) + (f" bis {day_de(days[-1])}" if days[-1] != days[0] else "")
        dated_en = str(days[0]) + (f" to {days[-1]}" if days[-1] != days[0] else "")
        yield _finding(
            "R5", Severity.ERROR, "outside_window",
            f"{counted(count, 'Rechnung', 'Rechnungen')} an {name} aus {ref} vom {dated_de} "
            f"{'liegt' if count == 1 else 'liegen'} außerhalb des Förderzeitraums {span_de(window)}.",
            f"{counted(count, 'invoice', 'invoices')} at {name} from {ref}, dated {dated_en}, "
            f"{'falls' if count == 1 else 'fall'} outside the funding window {span_en(window)}.",
            school=school, grant=ref, programme=group[0].programme.code, items=_ids(group), count=count,
            cost=_cost(group), window_start=window.start, window_end=window.end, earliest=days[0], latest=days[-1])
    undated = [entry for entry in ledger.funded if entry.item.invoice_date is None]
    for (school, ref), group in _groups(undated, _school_grant):
        name, count = ledger.school(school), len(group)
        yield _finding(
            "R5", Severity.WARNING, "no_invoice_date",
            f"{counted(count, 'Posten', 'Posten')} an {name} aus {ref} ohne Rechnungsdatum: der Förderzeitraum ist "
            f"nicht prüfbar.",
            f"{counted(count, 'item', 'items')} at {name} from {ref} without an invoice date: the funding window "
            f"cannot be checked.",
            school=school, grant=ref, programme=group[0].programme.code, items=_ids(group), count=count,
            cost=_cost(group))


def _r6(ledger: Ledger) -> Iterator[RuleFinding]:
    for ref, grant in sorted(ledger.grants.items()):
        if not ledger.programmes[grant.programme].concept_required:
            continue
        deadline = grant.applied or grant.decided
        step_de, step_en = ("dem Antrag", "application") if grant.applied else ("der Bewilligung", "decision")
        for code in sorted(set(grant.schools)):
            concept, name = ledger.schools[code].concept_date, ledger.school(code)
            where = dict(school=code, grant=ref, programme=grant.programme, concept_date=concept, deadline=deadline)
            if concept is None:
                yield _finding(
                    "R6", Severity.WARNING, "no_concept_date",
                    f"Für {name} ist kein Datum des Medienentwicklungsplans (technisch-pädagogischen "
                    f"Einsatzkonzepts) erfasst; {ref} setzt ihn vor {step_de} voraus.",
                    f"No date of the media concept (technisch-pädagogisches Einsatzkonzept) is recorded for {name}; "
                    f"{ref} requires one before the {step_en}.", **where)
            elif concept > deadline:
                yield _finding(
                    "R6", Severity.ERROR, "concept_too_late",
                    f"Der Medienentwicklungsplan von {name} ist vom {day_de(concept)}, nach {step_de} zu {ref} am "
                    f"{day_de(deadline)}.",
                    f"The media concept of {name} is dated {concept}, after the {step_en} of {ref} on {deadline}.",
                    **where)


def _r7(ledger: Ledger) -> Iterator[RuleFinding]:
    for ref, grant in sorted(ledger.grants.items()):
        due = grant.proof_due or ledger.programmes[grant.programme].proof_due_on(grant.project_end)
        if due is None or grant.proof_submitted is not None:
            continue
        days = (due - ledger.today).days
        where = dict(grant=ref, programme=grant.programme, due=due, project_end=grant.project_end)
        if days < 0:
            yield _finding(
                "R7", Severity.ERROR, "overdue",
                f"Der Verwendungsnachweis zu {ref} war am {day_de(due)} fällig und ist seit "
                f"{counted(-days, 'Tag', 'Tagen')} überfällig.",
                f"The proof of use for {ref} was due on {due} and is {counted(-days, 'day', 'days')} overdue.",
                days_overdue=-days, **where)
        elif days <= ledger.reminder_days:
            yield _finding(
                "R7", Severity.WARNING, "due_soon",
                f"Der Verwendungsnachweis zu {ref} ist am {day_de(due)} fällig, in {counted(days, 'Tag', 'Tagen')}.",
                f"The proof of use for {ref} is due on {due}, in {counted(days, 'day', 'days')}.",
                days_left=days, **where)


def _r8(ledger: Ledger, costs: dict) -> Iterator[RuleFinding]:
    ends: dict[tuple, date | None] = {}  # few distinct days: many devices share an invoice
    for entry in ledger.funded:
        item, grant, programme = entry
        retired = item.status == DeviceStatus.RETIRED
        if not retired and item.status != DeviceStatus.MISSING and item.school in grant.schools:
            continue  # in use where its grant put it (most devices, so asked first)
        if item.cost != INVESTMENT or item.id not in costs:
            continue  # money that was never eligible cannot be reclaimed
        start = item.commissioned or item.invoice_date
        key = (grant.ref, start)
        if key not in ends:
            ends[key] = programme.grant_earmark_end(grant.project_end, start)
        end = ends[key]
        if end is None:
            continue
        if retired:
            when = item.retired_at or ledger.today
            if when >= end:
                continue
        elif ledger.today >= end:
            continue  # the earmark has ended
        device, name = f"{item.id} ({item.kind})", ledger.school(item.school)
        where = dict(school=item.school, grant=grant.ref, programme=programme.code, items=(item.id,),
                     earmark_end=end)
        if retired:
            why_de = f" (Grund: {item.retire_reason})" if item.retire_reason else ""
            why_en = f" (reason: {item.retire_reason})" if item.retire_reason else ""
            yield _finding(
                "R8", Severity.RISK, "retired",
                f"Gerät {device} an {name} aus {grant.ref} wurde am {day_de(when)} ausgesondert{why_de}, vor Ende "
                f"der Zweckbindung am {day_de(end)}: die Förderung kann zurückgefordert werden.",
                f"Device {device} at {name} from {grant.ref} was retired on {when}{why_en}, before its earmark ends "
                f"on {end}: the funding may be reclaimed.",
                retired_at=item.retired_at, retire_reason=item.retire_reason, **where)
        elif item.status == DeviceStatus.MISSING:
            yield _finding(
                "R8", Severity.RISK, "missing",
                f"Gerät {device} aus {grant.ref} wird an {name} vermisst; die Zweckbindung läuft bis {day_de(end)}.",
                f"Device {device} from {grant.ref} is missing at {name}; its earmark runs to {end}.", **where)
        else:  # at a school outside its grant
            yield _finding(
                "R8", Severity.RISK, "moved",
                f"Gerät {device} aus {grant.ref} steht jetzt an {name}, die nicht zur Förderung gehört; die "
                f"Zweckbindung läuft bis {day_de(end)}.",
                f"Device {device} from {grant.ref} is now at {name}, which the grant does not cover; its earmark "
                f"runs to {end}.", **where)


def _r9(ledger: Ledger) -> Iterator[RuleFinding]:
    untagged = [entry for entry in ledger.funded if entry.item.cost == INVESTMENT
                and entry.programme.inventory_threshold is not None
                and entry.item.net > entry.programme.inventory_threshold and not (entry.item.asset_tag or "").strip()]
    for (school, ref), group in _groups(untagged, _school_grant):
        threshold, name, count = group[0].programme.inventory_threshold, ledger.school(school), len(group)
        yield _finding(
            "R9", Severity.ERROR, "no_asset_tag",
            f"{counted(count, 'Gerät', 'Geräte')} an {name} aus {ref} über {eur_de(threshold)} netto ohne "
            f"Inventarnummer.",
            f"{counted(count, 'item', 'items')} at {name} from {ref} over {eur_en(threshold)} net without an "
            f"Inventarnummer (asset tag).",
            school=school, grant=ref, programme=group[0].programme.code, items=_ids(group), count=count,
            threshold=threshold, highest_net=max(entry.item.net for entry in group))


def _r10(ledger: Ledger) -> Iterator[RuleFinding]:
    over = [entry for entry in ledger.funded if entry.item.cost == INVESTMENT
            and entry.programme.device_gross_cap is not None and entry.item.gross > entry.programme.device_gross_cap]
    for (school, ref), group in _groups(over, _school_grant):
        cap, name, count = group[0].programme.device_gross_cap, ledger.school(school), len(group)
        highest = max(entry.item.gross for entry in group)
        yield _finding(
            "R10", Severity.ERROR, "over_device_cap",
            f"{counted(count, 'Gerät', 'Geräte')} an {name} aus {ref} {'kostet' if count == 1 else 'kosten'} mehr "
            f"als {eur_de(cap)} brutto je Gerät (bis {eur_de(highest)}).",
            f"{counted(count, 'device', 'devices')} at {name} from {ref} {'costs' if count == 1 else 'cost'} more "
            f"than {eur_en(cap)} gross each (up to {eur_en(highest)}).",
            school=school, grant=ref, programme=group[0].programme.code, items=_ids(group), count=count, cap=cap,
            highest_gross=highest, excess=_sum(entry.item.gross - cap for entry in group))


# Helpers: grouping, ordering and the wording of figures.

def _finding(rule: str, severity: Severity, reason: str, de: str, en: str, *, school: str | None = None,
             grant: str | None = None, programme: str | None = None, items: tuple = (), **figures) -> RuleFinding:
    return RuleFinding(rule, severity.value, reason, school, grant, programme, items, figures, de, en)


def _groups(entries: list, key: Callable) -> list[tuple[tuple, list]]:
    groups: dict[tuple, list] = defaultdict(list)
    for entry in entries:
        groups[key(entry)].append(entry)
    return sorted(groups.items(), key=lambda pair: pair[0])


def _school_grant(entry: Funded) -> tuple[str, str]:
    return entry.item.school, entry.grant.ref


def _ids(group: list[Funded]) -> tuple:
    ids = [entry.item.id for entry in group]
    if all(type(value) is int for value in ids):  # device ids only: their own order is id_key's
        return tuple(sorted(ids))
    return tuple(sorted(ids, key=id_key))


def _order(finding: RuleFinding) -> tuple:
    return (int(finding.rule[1:]), finding.school or "", finding.grant or "", finding.programme or "",
            finding.reason, tuple(id_key(item) for item in finding.items))


def _sum(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, ZERO)


def _cost(group: list[Funded]) -> Decimal:
    return _sum(entry.programme.cost(entry.item.net, entry.item.gross) for entry in group)
