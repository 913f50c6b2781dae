"""Merge the visits of one accepted submission into the books, exactly once, set-wise.

Encounters are keyed by (facility, key). Per submission:

1. `SELECT … FOR UPDATE` of the encounters that already exist, in key order (one statement;
   concurrent workers on the same keys queue here instead of deadlocking). A key used by the
   facility for another citizen's book is an error (ENCOUNTER_OTHER_PATIENT): `EncounterConflict`
   is raised before this submission has written anything.
2. `INSERT … ON CONFLICT DO NOTHING RETURNING id, key` of the new ones (one statement): the
   rows it returns are the encounters this run created. A key another worker inserted in
   between is not returned; it is then locked and compared like an existing one (and if it
   belongs to another book, the encounters just inserted are deleted again before raising).
3. Per encounter: created by this run → insert its detail; same content hash → nothing
   changes; other content → the current version and its detail go to EncounterHistory as
   JSON, the encounter is updated (version + 1) and its detail replaced.
4. Detail rows: one COPY per table for the whole submission -- or for a whole batch of
   submissions (`details.PendingDetails`, flushed before any submission that must read what an
   earlier one of the batch wrote); FHIR items not tied to an encounter are upserted by
   (facility, source_key) (`ON CONFLICT DO UPDATE`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.forms.models import model_to_dict

from healthbook.models import Encounter, EncounterHistory, PregnancyCheckup

from .details import DETAIL_MODELS, DetailBuilder, PendingDetails, _s, pregnancy_key_date
from .problems import Problem, problem
from .records import ADDED_FIELDS, VisitData
from .sql import bound_cursor
from .timing import care_start


class EncounterConflict(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


@dataclasses.dataclass
class MergeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _json_default(o):
    if isinstance(o, (datetime, date, Decimal)):
        return o.isoformat() if not isinstance(o, Decimal) else str(o)
    if isinstance(o, bytes):
        return hashlib.sha256(o).hexdigest()
    raise TypeError(type(o))


def _plain(o):
    """Dataclasses → dicts, recursively (much cheaper than dataclasses.asdict's deep copies)."""
    if dataclasses.is_dataclass(o):
        return {f.name: _plain(getattr(o, f.name)) for f in dataclasses.fields(o)}
    if isinstance(o, list):
        return [_plain(x) for x in o]
    if isinstance(o, dict):
        return {k: _plain(x) for k, x in o.items()}
    return o


_field_names: dict[type, tuple[str, ...]] = {}
_added: dict[type, frozenset[str]] = {}


def _hash_default(o):
    """json default: a dataclass → its fields as a dict (the C encoder walks the rest)."""
    if dataclasses.is_dataclass(o):
        names = _field_names.get(type(o))
        if names is None:
            names = _field_names[type(o)] = tuple(f.name for f in dataclasses.fields(o))
            _added[type(o)] = ADDED_FIELDS.get(type(o).__name__, frozenset())
        added = _added[type(o)]
        return {n: v for n in names if (v := getattr(o, n)) or n not in added}
    return _json_default(o)


def visit_hash(v: VisitData) -> str:
    """SHA-256 of the visit's canonical JSON (its problems left out).

    Same bytes as `json.dumps(_plain(v))` (so stored content hashes stay valid), without the
    Python-level recursive copy first."""
    data = _hash_default(v)
    data.pop("problems", None)
    raw = json.dumps(data, sort_keys=True, default=_hash_default, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def encounter_fields(v: VisitData, received_at: datetime) -> dict:
    e = v.encounter
    return {
        "source": e.source,
        # the timeline time, and where the visit's care window starts: never after the receipt
        "occurred_at": care_start(e.admitted_at or e.discharged_at, received_at),
        "visit_type": _s(e.visit_type, 4),
        "admitted_at": e.admitted_at,
        "inpatient_at": e.inpatient_at,
        "discharged_at": e.discharged_at,
        "main_diagnosis": _s(e.main_diagnosis, 20),
        "secondary_diagnoses": [c[:20] for c in e.secondary_diagnoses],
        "traditional_diagnoses": [c[:20] for c in e.traditional_diagnoses],
        "procedures": [c[:20] for c in e.procedures],
        "diagnosis_text_admission": e.diagnosis_text_admission or "",
        "diagnosis_text_discharge": e.diagnosis_text_discharge or "",
        "result": _s(e.result, 4),
        "discharge_type": _s(e.discharge_type, 4),
        "departments": [c[:50] for c in e.departments],
        "follow_up_dates": [d.value for d in e.follow_up_dates],
        "referred_from": _s(e.referred_from, 20),
        "referred_to": _s(e.referred_to, 20),
        "record_number": _s(e.record_number, 100),
        "visit_object": _s(e.visit_object, 10),
        "weight_kg": _s(e.weight_kg, 20),
        "treatment_days": _s(e.treatment_days, 10),
        "note": e.note or "",
        "reason_for_visit": e.reason_for_visit or "",
        "treatment_method": e.treatment_method or "",
        "blood_group": _s(e.blood_group, 20),
        "patient_as_sent": {
            "name": v.patient.full_name,
            "birth_date": v.patient.birth_date.value.isoformat() if v.patient.birth_date else None,
            "personal_id": v.patient.personal_id,
            "cards": v.patient.card_numbers,
            "sex": v.patient.sex,
            "province": v.patient.province_code,
            "commune": v.patient.commune_code,
        },
    }


def _history_data(encounters: list[Encounter]) -> dict[int, dict]:
    """Each encounter's fields and detail rows as JSON-ready dicts (set-wise: one query per table)."""
    ids = [e.pk for e in encounters]
    out = {e.pk: {"encounter": json.loads(json.dumps(model_to_dict(e), default=_json_default))} for e in encounters}
    for model in DETAIL_MODELS:
        for row in model.objects.filter(encounter_id__in=ids).values():
            data = json.loads(json.dumps(row, default=_json_default))
            out[row["encounter_id"]].setdefault(model._meta.model_name, []).append(data)
    return out


_ENCOUNTER_FIELDS = [f for f in Encounter._meta.concrete_fields if not f.primary_key]


def _encounters_insert_sql() -> str:
    qn = connection.ops.quote_name
    return (
        f"INSERT INTO {qn(Encounter._meta.db_table)} ({', '.join(qn(f.column) for f in _ENCOUNTER_FIELDS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_ENCOUNTER_FIELDS))}) "
        "ON CONFLICT (facility_id, key) DO NOTHING RETURNING id, key"
    )


def _encounters_insert(fresh: list[Encounter]) -> dict[str, int]:
    """INSERT … ON CONFLICT (facility, key) DO NOTHING RETURNING: {key: id} of the rows inserted.

    One short statement per row, sent together (psycopg's executemany pipelines them and
    prepares the statement once): a single multi-row INSERT of a batch's encounters has a few
    thousand placeholders, which psycopg re-parses in Python on every call."""
    if not fresh:
        return {}
    params = [[f.get_db_prep_save(f.pre_save(e, True), connection) for f in _ENCOUNTER_FIELDS] for e in fresh]
    out: dict[str, int] = {}
    with bound_cursor() as cur:  # ~35 columns a row: server-side parameters, not quoted into the text
        cur.executemany(_encounters_insert_sql(), params, returning=True)
        while True:
            out.update((key, pk) for pk, key in cur.fetchall())
            if not cur.nextset():
                break
    return out


def _conflicts(enc_visits, locked: dict, policy) -> list[Problem]:
    return [
        problem(
            "ENCOUNTER_OTHER_PATIENT",
            table="XML1" if v.encounter.source == "xml130" else "Encounter",
            record_key=v.encounter.key,
            field="MA_LK",
            policy=policy,
        )
        for v, book, _i in enc_visits
        if v.encounter.key in locked and locked[v.encounter.key].book_id != book.pk
    ]


def _locked(facility, keys) -> dict[str, Encounter]:
    return {
        e.key: e for e in Encounter.objects.select_for_update().filter(facility=facility, key__in=keys).order_by("key")
    }


class MergeBatch:
    """What the submissions of one facility merged in one transaction share: their pending
    detail rows (one COPY per table at the end) and the encounters locked for them (one
    `SELECT … FOR UPDATE` for the keys of the whole batch, in key order, instead of one per
    submission). Encounters inserted or updated by the batch are kept here as they are now."""

    def __init__(self, facility):
        self.facility = facility
        self.details = PendingDetails()
        self.encounters: dict[str, Encounter] = {}
        self.looked_up: set[str] = set()  # keys already locked (or found absent) by this batch

    def lock(self, keys) -> None:
        """Lock the existing encounters of `keys` not looked up yet (one statement)."""
        keys = sorted(set(keys) - self.looked_up)
        if keys:
            self.encounters.update(_locked(self.facility, keys))
            self.looked_up.update(keys)

    def forget(self, keys) -> None:
        """Read these encounters again from the database next time (after a flush)."""
        for k in keys:
            self.encounters.pop(k, None)
            self.looked_up.discard(k)


@dataclasses.dataclass
class MergePlan:
    """A submission's encounters before its insert: locked existing ones, new ones to insert."""

    enc_visits: list
    hashes: dict[str, str]
    keys: list[str]
    locked: dict[str, Encounter]
    fresh: dict[str, Encounter]
    icd10: dict[int, int | None]


def merge_plan(*, submission, facility, visits, books, versions, policy, batch: MergeBatch) -> MergePlan:
    """Lock the submission's existing encounters and build its new ones; raise EncounterConflict
    (before anything is written) when a key belongs to another citizen's book."""
    pending = batch.details
    received_at = submission.received_at
    enc_visits = [(v, b, i) for i, (v, b) in enumerate(zip(visits, books, strict=True)) if v.encounter is not None]
    hashes = {v.encounter.key: visit_hash(v) for v, _b, _i in enc_visits}
    keys = sorted(hashes)
    touched = pending.touches(facility.pk, keys)
    if touched or any(v.pregnancy_checkups for v in visits):
        pending.flush()  # this submission reads rows an earlier one of the batch has pending
    if touched:
        batch.forget(keys)  # and reads those encounters as stored, as when merged one by one
    batch.lock(keys)
    locked = {k: batch.encounters[k] for k in keys if k in batch.encounters}
    conflicts = _conflicts(enc_visits, locked, policy)
    if conflicts:
        raise EncounterConflict(conflicts)
    icd10 = {i: versions.get(i, {}).get("icd10") for _v, _b, i in enc_visits}
    fresh = {}
    for v, book, i in sorted(enc_visits, key=lambda x: x[0].encounter.key):
        if v.encounter.key in locked or v.encounter.key in fresh:
            continue
        fresh[v.encounter.key] = Encounter(
            book=book,
            facility=facility,
            submission=submission,
            key=v.encounter.key[:100],
            version=1,
            content_hash=hashes[v.encounter.key],
            icd10_version_id=icd10[i],
            codelist_versions=versions.get(i, {}),
            **encounter_fields(v, received_at),
        )
    return MergePlan(enc_visits, hashes, keys, locked, fresh, icd10)


def encounters_insert(plans: list[MergePlan]) -> dict[str, int]:
    """The new encounters of several plans in one statement ({stored key: id} of those inserted).

    Only for plans whose keys no other plan of the list shares (the caller's rule): then one
    INSERT for all is what one INSERT each would have done."""
    return _encounters_insert(sorted((e for p in plans for e in p.fresh.values()), key=lambda e: e.key))


def visits_merge(
    *,
    submission,
    facility,
    visits: list[VisitData],
    books: list,
    checks: dict,
    versions: dict,
    policy,
    signature_verified: bool,
    batch: MergeBatch | None = None,
    planned: tuple[MergePlan, dict[str, int]] | None = None,
) -> MergeCounts:
    """Merge accepted visits (books[i] is the HealthBook of visits[i]); see the module docstring.

    With `batch`, the encounter detail rows are left pending there for one COPY per table at the
    end of the batch; without it they are written before returning. `planned` is this
    submission's `merge_plan` and the ids of `encounters_insert` when the batch inserted the new
    encounters of several submissions at once."""
    own = batch is None
    batch = batch if batch is not None else MergeBatch(facility)
    pending = batch.details
    counts = MergeCounts()
    received_at = submission.received_at
    if planned is None:
        plan = merge_plan(
            submission=submission,
            facility=facility,
            visits=visits,
            books=books,
            versions=versions,
            policy=policy,
            batch=batch,
        )
        inserted = _encounters_insert(list(plan.fresh.values()))
    else:
        plan, inserted = planned
    enc_visits, hashes, keys, locked, fresh, icd10 = (
        plan.enc_visits,
        plan.hashes,
        plan.keys,
        plan.locked,
        plan.fresh,
        plan.icd10,
    )
    created = {key: inserted[e.key] for key, e in fresh.items() if e.key in inserted}
    for key, pk in created.items():
        enc = fresh[key]
        enc.pk = pk
        enc._state.adding, enc._state.db = False, "default"
        locked[key] = batch.encounters[key] = enc
    raced = [key for key in fresh if key not in created]
    if raced:  # another worker inserted these keys since the SELECT: compare them like existing ones
        batch.forget(raced)
        batch.lock(raced)
        locked.update({k: batch.encounters[k] for k in raced if k in batch.encounters})
        conflicts = _conflicts(enc_visits, locked, policy)
        if conflicts:
            Encounter.objects.filter(pk__in=list(created.values())).delete()
            batch.forget(list(created))
            raise EncounterConflict(conflicts)
    pregnancy_keys: dict[int, list] = {}
    book_ids = {b.pk for b in books if b is not None}
    if any(v.pregnancy_checkups for v in visits):
        # every pregnancy already in these books, by its key (the ISO due date it was opened with,
        # sent or derived): a check-up sent later without a due date joins it (details.pregnancy_key)
        for row in PregnancyCheckup.objects.filter(book_id__in=book_ids).values("book_id", "pregnancy_key").distinct():
            day = pregnancy_key_date(row["pregnancy_key"])
            if day is not None:
                pregnancy_keys.setdefault(row["book_id"], []).append((day, row["pregnancy_key"]))
    builder = DetailBuilder(
        submission=submission,
        facility=facility,
        checks=checks,
        pregnancy_keys=pregnancy_keys,
        signature_verified=signature_verified,
        rows=pending.rows,
    )
    changed: list[tuple[Encounter, VisitData, int]] = []
    for v, book, i in enc_visits:
        key = v.encounter.key
        enc = locked[key]
        if key in created:
            counts.created += 1
            builder.add(v, book, enc)
        elif enc.content_hash == hashes[key]:
            counts.unchanged += 1
        else:
            changed.append((enc, v, i))
    if changed:
        old = _history_data([e for e, _v, _i in changed])
        EncounterHistory.objects.bulk_create(
            [
                EncounterHistory(
                    encounter=e,
                    version=e.version,
                    content_hash=e.content_hash,
                    submission_id=e.submission_id,
                    replaced_by=submission,
                    data=old[e.pk],
                )
                for e, _v, _i in changed
            ]
        )
        ids = [e.pk for e, _v, _i in changed]
        for model in DETAIL_MODELS:
            model.objects.filter(encounter_id__in=ids).delete()
        update_fields = list(encounter_fields(changed[0][1], received_at)) + [
            "version",
            "content_hash",
            "submission",
            "icd10_version",
            "codelist_versions",
            "updated_at",
        ]
        for enc, v, i in changed:
            for name, value in encounter_fields(v, received_at).items():
                setattr(enc, name, value)
            enc.version += 1
            enc.content_hash = hashes[enc.key]
            enc.submission = submission
            enc.icd10_version_id = icd10[i]
            enc.codelist_versions = versions.get(i, {})
            enc.updated_at = submission.processed_at or received_at
            builder.add(v, enc.book, enc)
        Encounter.objects.bulk_update([e for e, _v, _i in changed], update_fields)
        counts.updated = len(changed)
    pending.keys.update((facility.pk, k) for k in keys)
    for v, book in zip(visits, books, strict=True):
        if v.encounter is None and book is not None:
            builder.add(v, book, None)
    if own:
        pending.flush()
    for model, rows in builder.loose.items():
        rows = list({r.source_key: r for r in rows}.values())  # one row per key, or ON CONFLICT fails
        if rows:
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if f.name not in ("id", "facility", "source_key", "encounter")
            ]
            model.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["facility", "source_key"], update_fields=fields
            )
    return counts
