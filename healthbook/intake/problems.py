"""Problems found while reading a submission: stable codes, messages, and severities.

Every finding is a :class:`Problem` with a stable ``code`` (the API and tests use it), the
place it was found (``table`` = LOAIHOSO or FHIR resource type, ``record_key`` = MA_LK or
"MA_LK/STT" or the FHIR resource id, ``field``), an English msgid marked for translation
(Vietnamese in the healthbook catalog, ``healthbook/locale/vi``) and a severity.

Severities come from :data:`DEFAULT_SEVERITY`; a deployment may override them with a
:class:`SeverityPolicy` (by code, or by code + table + field) -- this is the "documented,
configurable table" of the intake issue.  A submission with at least one error is rejected;
warnings are reported and the data is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.utils.translation import gettext_lazy as _

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding.  ``message`` is a lazy translation proxy (left out of ``==``/``repr``)."""

    code: str
    severity: str = ERROR
    table: str | None = None
    record_key: str | None = None
    field: str | None = None
    value: Any = None
    message: Any = dc_field(default=None, repr=False, compare=False)
    detail: str = dc_field(default="", compare=False)

    def as_dict(self) -> dict:
        """Plain dict for JSON (``message`` rendered in the active language)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "table": self.table,
            "record_key": self.record_key,
            "field": self.field,
            "message": str(self.message) if self.message is not None else "",
        }


# code -> (English msgid, default severity).  Literal _() calls so makemessages extracts them.
CATALOG: dict[str, tuple[Any, str]] = {
    # body and XML safety
    "BODY_EMPTY": (_("The submission is empty."), ERROR),
    "BODY_TOO_LARGE": (_("The submission is larger than the allowed size."), ERROR),
    "BODY_NOT_XML": (_("The submission is neither XML nor base64-encoded XML."), ERROR),
    "XML_ENCODING": (_("The XML document must be encoded in UTF-8."), ERROR),
    "XML_DTD_FORBIDDEN": (_("The XML document contains a DOCTYPE or ENTITY declaration, which is not allowed."), ERROR),
    "XML_MALFORMED": (_("The XML document is not well-formed."), ERROR),
    "XML_MIXED_CONTENT": (_("A data field contains nested elements instead of a single value."), ERROR),
    # GIAMDINHHS envelope
    "ENVELOPE_ROOT": (_("The document root must be GIAMDINHHS."), ERROR),
    "ENVELOPE_STRUCTURE": (
        _("The envelope does not have the expected structure (an element is missing or repeated)."),
        ERROR,
    ),
    "ENVELOPE_FACILITY_MISSING": (_("The facility code (THONGTINDONVI/MACSKCB) is missing."), ERROR),
    "ENVELOPE_FACILITY_MISMATCH": (
        _("The facility code in the file differs from the facility that sent it."),
        ERROR,
    ),
    "ENVELOPE_NO_RECORDS": (_("The file contains no treatment record (HOSO)."), ERROR),
    "ENVELOPE_COUNT_MISMATCH": (_("SOLUONGHOSO differs from the number of HOSO elements."), WARNING),
    "ENVELOPE_DATE": (_("NGAYLAP is not a valid date in yyyyMMdd format."), WARNING),
    "FILE_TYPE_MISSING": (_("A FILEHOSO element has no LOAIHOSO."), ERROR),
    "FILE_TYPE_UNKNOWN": (_("The table type (LOAIHOSO) is not known; it is kept as received."), WARNING),
    "FILE_TYPE_REPEATED": (_("The same table type appears twice in one treatment record."), ERROR),
    "FILE_BASE64": (_("NOIDUNGFILE is not valid base64."), ERROR),
    "FILE_STRUCTURE": (_("The table does not have the expected root and record elements."), ERROR),
    # treatment record
    "HOSO_NO_XML1": (
        _("The treatment record has no summary table (XML1) (only a check-in may consist of XML0 alone)."),
        ERROR,
    ),
    "CHECKIN_EMPTY": (_("The check-in table (XML0) holds no record."), ERROR),
    "CHECKIN_ROWS_DIFFER": (_("The rows of one check-in must name the same patient, card and facility."), ERROR),
    "CHECKIN_OTHER_FACILITY": (
        _("A check-in opens the health book only to the facility that sends it: MA_CSKCB must be your code."),
        ERROR,
    ),
    "XML1_NO_MA_LK": (_("The summary table (XML1) has no treatment key (MA_LK)."), ERROR),
    "XML1_REPEATED": (_("The summary table (XML1) must contain exactly one record."), ERROR),
    "MA_LK_MISMATCH": (_("The treatment key (MA_LK) of this row differs from the one in XML1."), ERROR),
    "MA_LK_DUPLICATE": (_("The same treatment key (MA_LK) appears in two treatment records of the file."), ERROR),
    # fields
    "FIELD_REQUIRED": (_("This field is required."), ERROR),
    "FIELD_TOO_LONG": (_("The value is longer than the maximum size for this field."), ERROR),
    "FIELD_NOT_NUMBER": (_("The value must be a number (digits, with '.' as decimal separator)."), ERROR),
    "FIELD_DATE": (_("The value is not a valid date in the XML 130 format (yyyyMMdd or yyyyMMddHHmm)."), ERROR),
    "FIELD_ENUM": (_("The value is not one of the codes listed for this field."), WARNING),
    "FIELD_GATEWAY_FORMAT": (_("The value does not follow the insurance gateway's format rule."), WARNING),
    "FIELD_DATE_ORDER": (_("This date is earlier than the date it must follow."), WARNING),
    "FIELD_DIFFERS_FROM_XML1": (_("The value differs from the same field in the summary table (XML1)."), WARNING),
    "FIELD_UNKNOWN": (_("The element is not a field of this table; it is ignored."), WARNING),
    "FIELD_REPEATED": (_("The field appears more than once in the same record."), ERROR),
    # XML signature
    "SIG_MISSING": (_("The file is not signed (no signature in CHUKYDONVI)."), ERROR),
    "SIG_COUNT": (_("The file must contain exactly one signature."), ERROR),
    "SIG_LOCATION": (_("The signature must be inside GIAMDINHHS/CHUKYDONVI."), ERROR),
    "SIG_REFERENCE": (_("The signature must cover the whole document with exactly one reference."), ERROR),
    "SIG_TRANSFORM": (_("The signature uses a transform that is not allowed."), ERROR),
    "SIG_WEAK_ALGORITHM": (_("The signature uses SHA-1, which is no longer accepted."), ERROR),
    "SIG_ALGORITHM": (_("The signature algorithm is not accepted (use RSA or ECDSA with SHA-256 or stronger)."), ERROR),
    "SIG_CERT_UNKNOWN": (_("The signing certificate is not registered to this facility."), ERROR),
    "SIG_CERT_EXPIRED": (_("The signing certificate had expired at the signing time."), ERROR),
    "SIG_CERT_NOT_YET_VALID": (_("The signing certificate was not yet valid at the signing time."), ERROR),
    "SIG_SIGNING_TIME": (_("The signing time is missing, in the future or too old."), ERROR),
    "SIG_INVALID": (_("The signature does not match the document (the file was changed after signing)."), ERROR),
    # FHIR and JWS
    "FHIR_JSON": (_("The body is not valid JSON."), ERROR),
    "FHIR_TOO_DEEP": (_("The JSON document is nested too deeply (at most 32 levels)."), ERROR),
    "TEXT_UNSTORABLE_CHARACTER": (
        _("A text value contains a NUL character or an invalid Unicode character (a lone surrogate)."),
        ERROR,
    ),
    "PROCESSING_FAILED": (
        _("The submission could not be processed; nothing of it was stored. Correct the data and send it again."),
        ERROR,
    ),
    "FHIR_NOT_BUNDLE": (_("The body must be a FHIR Bundle."), ERROR),
    "FHIR_INVALID": (_("The resource does not conform to FHIR R4."), ERROR),
    "FHIR_UNSUPPORTED_RESOURCE": (
        _("The book does not map this resource type; it is kept as received and shown as sent."),
        WARNING,
    ),
    "FHIR_PATIENT_MISSING": (_("The bundle must contain exactly one Patient."), ERROR),
    "FHIR_PATIENT_IDENTIFIER": (_("The patient has neither a personal ID nor a social insurance number."), ERROR),
    "FHIR_REFERENCE": (_("The reference does not point to a resource in the bundle."), ERROR),
    "FHIR_CODE_MISSING": (_("A required code is missing."), ERROR),
    "FHIR_DATE_MISSING": (_("A required date is missing."), ERROR),
    # no longer raised (issue 17: such observations are lab results or vital signs); kept for the
    # problems of submissions received before
    "FHIR_OBSERVATION_UNKNOWN": (_("The observation code is not one the book records; it is ignored."), WARNING),
    "FHIR_PRESCRIPTION_CODE": (_("The national e-prescription code must have 14 characters."), WARNING),
    "FHIR_DOCUMENT_TYPE": (_("The document type is not a death notice or a driver health certificate."), ERROR),
    "JWS_MISSING": (_("The FHIR submission is not signed (no X-Signature header)."), ERROR),
    "JWS_MALFORMED": (_("The signature is not a valid compact JWS."), ERROR),
    "JWS_ALG_NONE": (_("Unsigned JWS (alg none) is not accepted."), ERROR),
    "JWS_ALG_HMAC": (_("Shared-secret JWS algorithms (HS256/384/512) are not accepted."), ERROR),
    "JWS_ALG": (_("The JWS algorithm is not accepted (use RS256, PS256 or ES256)."), ERROR),
    "JWS_CRIT": (_("The JWS has critical header parameters that are not understood."), ERROR),
    "JWS_KEY_UNKNOWN": (_("No key registered to this facility verifies the signature."), ERROR),
    "JWS_PAYLOAD_MISMATCH": (_("The signed payload is not the body that was sent."), ERROR),
    "JWS_CERT_EXPIRED": (_("The signing certificate is not valid at the signing time."), ERROR),
    # stage 2: certificates, code lists, citizen matching, merge (severities of the CODE_*
    # rules per table and field: healthbook.intake.validate.DEFAULT_OVERRIDES)
    "SIG_CERT_UNTRUSTED": (
        _(
            "The signing certificate is registered but not trusted: it does not chain to a certification "
            "authority the Ministry of Health trusts (see the facility's credentials page)."
        ),
        ERROR,
    ),
    "SIG_CERT_REVOKED": (
        _("The signing certificate had been revoked before this submission was received."),
        ERROR,
    ),
    "CODE_UNKNOWN": (_("The code is not in the national code list."), WARNING),
    "CODE_RETIRED": (_("The code was withdrawn from the code list in force on the visit date."), WARNING),
    "CODE_NOT_IN_FORCE": (
        _("The code only exists in a code-list version that was not yet in force on the visit date."),
        WARNING,
    ),
    "CODE_INACTIVE": (_("The code is marked inactive in the code list in force on the visit date."), WARNING),
    "CODE_LIST_MISSING": (
        _("No version of this code list was in force on the visit date; the code was not checked."),
        WARNING,
    ),
    # Residence (healthbook.intake.residence): administrative fields never reject clinical data.
    "RESIDENCE_PROVINCE_MISSING": (
        _("The province of residence (MATINH_CU_TRU) is blank: the citizen is not counted in any province."),
        WARNING,
    ),
    "RESIDENCE_PROVINCE_UNKNOWN": (
        _("The province of residence (MATINH_CU_TRU) is not a province code, old or new; it is ignored."),
        WARNING,
    ),
    "RESIDENCE_COMMUNE_UNKNOWN": (
        _(
            "The commune of residence (MAXA_CU_TRU) is not one of the 3,321 communes in force since "
            "1 July 2025 (an old commune code is not converted); it is ignored."
        ),
        WARNING,
    ),
    "RESIDENCE_COMMUNE_OTHER_PROVINCE": (
        _("The commune of residence (MAXA_CU_TRU) is not in the province of residence; it is ignored."),
        WARNING,
    ),
    # the ICD-10 annex rules of QĐ 4469 (issue 17): warnings by default
    "ICD10_NOT_MAIN": (_("This ICD-10 code may not be used as the main diagnosis (annex A2)."), WARNING),
    "ICD10_SEX": (_("This ICD-10 code applies to the other sex only (annexes A4.1, A4.2)."), WARNING),
    "ICD10_AGE": (_("This ICD-10 code does not fit the patient's age on the visit date (annexes A3)."), WARNING),
    "PATIENT_NOT_IDENTIFIED": (
        _("The patient has neither a personal ID number (SO_CCCD) nor a health-insurance card number."),
        ERROR,
    ),
    # Identity contradictions: the submission is held for review, not attached (healthbook.intake.hold)
    "PATIENT_NAME_MISMATCH": (
        _("The patient's name differs from the health book: the data is held until a reviewer releases it."),
        WARNING,
    ),
    "PATIENT_BIRTH_DATE_MISMATCH": (
        _("The patient's date of birth differs from the health book: the data is held until a reviewer releases it."),
        WARNING,
    ),
    "PATIENT_SEX_MISMATCH": (
        _("The patient's sex differs from the health book: the data is held until a reviewer releases it."),
        WARNING,
    ),
    "PATIENT_ID_MISMATCH": (
        _(
            "The personal ID number differs from the one of the health book found by the insurance number: "
            "the data is held until a reviewer releases it."
        ),
        WARNING,
    ),
    "IDENTITY_REJECTED": (
        _("A reviewer rejected this submission: the patient's identity does not match the health book."),
        ERROR,
    ),
    "TIME_IN_FUTURE": (
        _(
            "This time is later than the receipt of the submission (beyond the allowed clock difference): "
            "a visit or a check-in cannot begin in the future."
        ),
        ERROR,
    ),
    "ENCOUNTER_OTHER_PATIENT": (
        _("This treatment key (MA_LK) was already sent by this facility for another patient."),
        ERROR,
    ),
    "CHECKIN_OTHER_PATIENT": (
        _("This treatment key (MA_LK) was already used by this facility for a check-in of another patient."),
        ERROR,
    ),
    "SUBMISSION_DUPLICATE": (_("The same file was already received and accepted; nothing changed."), WARNING),
}

MESSAGES: dict[str, Any] = {code: msg for code, (msg, _sev) in CATALOG.items()}
DEFAULT_SEVERITY: Mapping[str, str] = {code: sev for code, (_msg, sev) in CATALOG.items()}


@dataclass(frozen=True)
class SeverityPolicy:
    """Severity table.  ``overrides`` maps a code, or ``"CODE:TABLE:FIELD"`` (``*`` allowed
    for TABLE or FIELD), to "error" / "warning"."""

    overrides: Mapping[str, str] = dc_field(default_factory=dict)

    def severity(self, code: str, table: str | None = None, field: str | None = None) -> str:
        o = self.overrides
        if o:
            for key in (f"{code}:{table}:{field}", f"{code}:{table}:*", f"{code}:*:{field}", code):
                sev = o.get(key)
                if sev is not None:
                    return sev
        return DEFAULT_SEVERITY[code]


DEFAULT_POLICY = SeverityPolicy()


def problem(
    code: str,
    *,
    table: str | None = None,
    record_key: str | None = None,
    field: str | None = None,
    value: Any = None,
    detail: str = "",
    policy: SeverityPolicy = DEFAULT_POLICY,
) -> Problem:
    """Build a :class:`Problem` for a known ``code`` (KeyError otherwise)."""
    return Problem(
        code,
        policy.severity(code, table, field),
        table,
        record_key,
        field,
        value,
        MESSAGES[code],
        detail,
    )


def has_errors(problems) -> bool:
    return any(p.severity == ERROR for p in problems)
