"""The GIAMDINHHS envelope (vn-ehb.md §2.7) -- body decoding and envelope reading.

Accepted bodies: the envelope as XML (``application/xml``), or the whole envelope
base64-encoded as it is posted to the insurance gateway (``fileHSBase64``).  Structure::

    GIAMDINHHS
      THONGTINDONVI/MACSKCB                 facility code
      THONGTINHOSO/NGAYLAP                  yyyyMMdd
      THONGTINHOSO/SOLUONGHOSO              number of HOSO
      THONGTINHOSO/DANHSACHHOSO/HOSO*       one treatment episode each
        FILEHOSO*/LOAIHOSO, NOIDUNGFILE     table type, base64(UTF-8 inner XML)
      CHUKYDONVI/ds:Signature               enveloped XML-DSig (see signature.py)

Elements are looked up as direct children only (never ``.//``), and an element that must
occur once but is missing or repeated is an ENVELOPE_STRUCTURE error, so wrapped or
duplicated blocks cannot smuggle a second reading of the data.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from .problems import Problem, problem
from .xmlsafe import DEFAULT_MAX_BYTES, leaf_text, local, parse_xml

ROOT = "GIAMDINHHS"
_WS = re.compile(rb"\s+")


@dataclass
class FileHoSo:
    """One FILEHOSO: the table type and its decoded inner XML (None if undecodable)."""

    loaihoso: str | None
    content: bytes | None
    position: int


@dataclass
class HoSo:
    """One HOSO (treatment episode) of the envelope, in document order (1-based)."""

    position: int
    files: list[FileHoSo] = field(default_factory=list)


@dataclass
class Envelope:
    facility_code: str | None
    created_on_raw: str | None
    created_on: date | None
    declared_count: str | None
    records: list[HoSo]
    has_signature_block: bool


def decode_body(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes | None, list[Problem]]:
    """Return the envelope XML bytes from a raw or base64-encoded body."""
    if len(body) > max_bytes:
        return None, [problem("BODY_TOO_LARGE", value=len(body))]
    head = body.lstrip()
    if not head:
        return None, [problem("BODY_EMPTY")]
    if head.startswith((b"<", b"\xef\xbb\xbf")):
        return body, []
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None, [problem("XML_ENCODING")]
    try:
        decoded = base64.b64decode(_WS.sub(b"", body), validate=True)
    except (binascii.Error, ValueError):
        return None, [problem("BODY_NOT_XML")]
    if not decoded.lstrip().startswith((b"<", b"\xef\xbb\xbf")):
        return None, [problem("BODY_NOT_XML")]
    return decoded, []


def load(body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[etree._Element | None, list[Problem]]:
    """Decode and safely parse a body; the root must be GIAMDINHHS."""
    xml, problems = decode_body(body, max_bytes=max_bytes)
    if xml is None:
        return None, problems
    root, problems = parse_xml(xml, max_bytes=max_bytes)
    if root is None:
        return None, problems
    if local(root.tag) != ROOT:
        return None, [problem("ENVELOPE_ROOT", value=local(root.tag)[:100])]
    return root, []


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in parent if local(c.tag) == name]


def _one(parent, name: str, problems: list[Problem], *, required: bool = True):
    found = _children(parent, name) if parent is not None else []
    if len(found) == 1:
        return found[0]
    if found or required:
        problems.append(problem("ENVELOPE_STRUCTURE", field=name, value=len(found)))
    return None


def _text(el, problems: list[Problem], name: str) -> str | None:
    if el is None:
        return None
    value, ok = leaf_text(el)
    if not ok:
        problems.append(problem("XML_MIXED_CONTENT", field=name))
        return None
    return value


def decode_file(text: str | None) -> bytes | None:
    """base64 -> bytes, or None when the text is missing or not strict base64."""
    if not text:
        return None
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        pass
    try:  # line-wrapped base64 (MIME style) is accepted too
        return base64.b64decode(_WS.sub(b"", raw), validate=True)
    except (binascii.Error, ValueError):
        return None


def read(root: etree._Element) -> tuple[Envelope | None, list[Problem]]:
    """Read the envelope fields and decode every FILEHOSO (bad base64 -> FILE_BASE64)."""
    problems: list[Problem] = []
    if local(root.tag) != ROOT:
        return None, [problem("ENVELOPE_ROOT", value=local(root.tag)[:100])]
    donvi = _one(root, "THONGTINDONVI", problems)
    facility = _text(_one(donvi, "MACSKCB", problems), problems, "MACSKCB") if donvi is not None else None
    if facility is None:
        problems.append(problem("ENVELOPE_FACILITY_MISSING", field="MACSKCB"))
    hoso_info = _one(root, "THONGTINHOSO", problems)
    created_raw = declared = None
    records: list[HoSo] = []
    if hoso_info is not None:
        created_raw = _text(_one(hoso_info, "NGAYLAP", problems, required=False), problems, "NGAYLAP")
        declared = _text(_one(hoso_info, "SOLUONGHOSO", problems, required=False), problems, "SOLUONGHOSO")
        ds = _one(hoso_info, "DANHSACHHOSO", problems)
        if ds is not None:
            for i, hoso_el in enumerate(_children(ds, "HOSO"), start=1):
                hoso = HoSo(position=i)
                for j, f in enumerate(_children(hoso_el, "FILEHOSO"), start=1):
                    sub: list[Problem] = []
                    kind = _text(_one(f, "LOAIHOSO", sub, required=False), sub, "LOAIHOSO")
                    body_text = _text(_one(f, "NOIDUNGFILE", sub, required=False), sub, "NOIDUNGFILE")
                    key = f"HOSO#{i}"
                    if kind is None:
                        problems.append(problem("FILE_TYPE_MISSING", record_key=key, field="LOAIHOSO"))
                    content = decode_file(body_text)
                    if content is None:
                        problems.append(problem("FILE_BASE64", table=kind, record_key=key, field="NOIDUNGFILE"))
                    problems.extend(sub)
                    hoso.files.append(FileHoSo(kind.upper() if kind else None, content, j))
                records.append(hoso)
    if not records:
        problems.append(problem("ENVELOPE_NO_RECORDS"))
    if declared is not None and declared.strip() != str(len(records)):
        problems.append(problem("ENVELOPE_COUNT_MISMATCH", field="SOLUONGHOSO", value=declared))
    created = None
    if created_raw is not None:
        from healthbook.identifiers import parse_xml130_date

        parsed = parse_xml130_date(created_raw, field="NGAYLAP", allow_partial=False)
        if isinstance(parsed, list) or len(created_raw) != 8:
            problems.append(problem("ENVELOPE_DATE", field="NGAYLAP", value=created_raw))
        else:
            created = parsed.value
    env = Envelope(
        facility_code=facility,
        created_on_raw=created_raw,
        created_on=created,
        declared_count=declared,
        records=records,
        has_signature_block=bool(_children(root, "CHUKYDONVI")),
    )
    return env, problems
