"""One call from raw submission bytes to plain visit records (no database).

The stage-2 Celery task calls :func:`read_xml_submission` / :func:`read_fhir_submission`
on the stored bytes and merges ``visits`` into the book when ``ok``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509

from . import envelope as env_mod
from .mapping import checkin_from_hoso, visit_from_hoso
from .problems import DEFAULT_POLICY, Problem, SeverityPolicy, has_errors, problem
from .records import CheckInData, VisitData
from .signature import SignatureResult, verify_envelope
from .xml130 import load_spec, parse_hoso
from .xmlsafe import DEFAULT_MAX_BYTES


@dataclass
class SubmissionResult:
    kind: str  # "xml130" | "fhir"
    facility_code: str | None = None
    signature: SignatureResult | None = None
    visits: list[VisitData] = field(default_factory=list)
    checkins: list[CheckInData] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)

    @property
    def status(self) -> str:
        if not self.ok:
            return "rejected"
        return "accepted_with_warnings" if self.problems else "accepted"


def read_xml_submission(
    body: bytes,
    *,
    facility_code: str,
    certificates: Sequence[x509.Certificate] = (),
    signature_required: bool = True,
    signing_time_source: str = "NGAYLAP",
    received_at: datetime | None = None,
    max_signing_age: timedelta | None = timedelta(days=30),
    policy: SeverityPolicy = DEFAULT_POLICY,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SubmissionResult:
    """Decode, verify, parse and map an XML 130 envelope.  Never raises on bad input."""
    out = SubmissionResult(kind="xml130")
    root, problems = env_mod.load(body, max_bytes=max_bytes)
    if root is None:
        out.problems = problems
        return out
    if signature_required:
        sig = verify_envelope(
            root,
            certificates=certificates,
            facility_code=facility_code,
            signing_time_source=signing_time_source,
            received_at=received_at,
            max_signing_age=max_signing_age,
        )
        out.signature = sig
        if not sig.ok:
            out.problems = sig.problems
            return out
        root = sig.signed_root  # read only what was signed
    envelope, problems = env_mod.read(root)
    out.problems.extend(problems)
    if envelope is None:
        return out
    out.facility_code = envelope.facility_code
    if envelope.facility_code is not None and envelope.facility_code != facility_code:
        out.problems.append(
            problem("ENVELOPE_FACILITY_MISMATCH", field="MACSKCB", value=envelope.facility_code, policy=policy)
        )
        return out
    spec = load_spec()
    seen: set[str] = set()
    seen_checkins: set[str] = set()
    for hoso in envelope.records:
        tables = parse_hoso(hoso, spec=spec, policy=policy, max_bytes=max_bytes)
        out.problems.extend(tables.problems)
        if tables.checkin:
            _add_checkin(out, tables, seen_checkins, facility_code, policy)
            continue
        if tables.ma_lk is not None:
            if tables.ma_lk in seen:
                out.problems.append(problem("MA_LK_DUPLICATE", table="XML1", record_key=tables.ma_lk, policy=policy))
                continue
            seen.add(tables.ma_lk)
        visit = visit_from_hoso(tables, facility_code=envelope.facility_code)
        if visit is not None:
            out.visits.append(visit)
    return out


def _add_checkin(out: SubmissionResult, tables, seen: set[str], facility_code: str, policy) -> None:
    """A check-in HOSO: keyed by its MA_LK (once per file); it opens the door only for the facility
    that sends it, so a check-in naming another facility (MA_CSKCB) is refused."""
    checkin = checkin_from_hoso(tables)
    if checkin is None:
        return
    if checkin.key in seen:
        out.problems.append(problem("MA_LK_DUPLICATE", table="XML0", record_key=checkin.key, policy=policy))
        return
    seen.add(checkin.key)
    if checkin.facility_code and checkin.facility_code != facility_code:
        out.problems.append(
            problem(
                "CHECKIN_OTHER_FACILITY",
                table="XML0",
                record_key=checkin.key,
                field="MA_CSKCB",
                value=checkin.facility_code,
                policy=policy,
            )
        )
        return
    out.checkins.append(checkin)


def read_fhir_submission(
    body: bytes,
    *,
    facility_code: str,
    jws: str | None,
    keys: dict,
    signature_required: bool = True,
    at: datetime | None = None,
    policy: SeverityPolicy = DEFAULT_POLICY,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> SubmissionResult:
    """Verify the detached JWS (header ``X-Signature``) and read the FHIR Bundle."""
    from .fhir_bundle import read_bundle
    from .jws import verify_detached

    out = SubmissionResult(kind="fhir", facility_code=facility_code)
    if len(body) > max_bytes:
        out.problems = [problem("BODY_TOO_LARGE", value=len(body), policy=policy)]
        return out
    if signature_required:
        result = verify_detached(body, jws, keys, at=at)
        if not result.ok:
            out.problems = result.problems
            return out
    fr = read_bundle(body, facility_code=facility_code, policy=policy)
    out.problems.extend(fr.problems)
    out.visits = fr.visits
    out.checkins = fr.checkins
    return out
