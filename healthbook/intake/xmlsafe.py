"""Hardened XML parsing for facility submissions (security-plan S17, S20).

* Bytes only, UTF-8 only (a UTF-16/32 byte-order mark, a NUL byte or an ``encoding=`` other
  than UTF-8 is refused): the DOCTYPE scan below must see the markup as ASCII.
* Any ``<!DOCTYPE`` or ``<!ENTITY`` is refused BEFORE parsing (no billion laughs, no
  external entity or DTD fetch, ever).  XInclude is never processed (we never call
  ``xinclude()``).
* Bounded size (``max_bytes``), and lxml's own limits stay on (``huge_tree=False``: depth,
  text-node size, entity amplification).
* The parser itself cannot resolve entities, load a DTD or touch the network.

:func:`parse_xml` returns ``(root, [])`` or ``(None, [problems])``: bad input is a problem,
never an exception.
"""

from __future__ import annotations

import re

from lxml import etree

from .problems import Problem, problem

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_DECL_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.I)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8_NAMES = {b"utf-8", b"utf8"}
_BOMS_NOT_UTF8 = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")


def make_parser() -> etree.XMLParser:
    """A fresh parser with every external feature off (parsers are not thread-safe)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


def precheck(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, table: str | None = None) -> list[Problem]:
    """Problems that must stop a document before it reaches any XML parser."""
    if len(data) > max_bytes:
        return [problem("BODY_TOO_LARGE", table=table, value=len(data))]
    if data.startswith(_BOMS_NOT_UTF8) or b"\x00" in data[:4096]:
        return [problem("XML_ENCODING", table=table)]
    m = _XML_DECL.match(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    if m and m.group(1).lower() not in _UTF8_NAMES:
        return [problem("XML_ENCODING", table=table, value=m.group(1).decode("ascii", "replace"))]
    if _DECL_FORBIDDEN.search(data):
        return [problem("XML_DTD_FORBIDDEN", table=table)]
    return []


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, table: str | None = None
) -> tuple[etree._Element | None, list[Problem]]:
    """Parse ``data`` with :func:`make_parser` after :func:`precheck`."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse_xml takes bytes")
    problems = precheck(bytes(data), max_bytes=max_bytes, table=table)
    if problems:
        return None, problems
    try:
        root = etree.fromstring(bytes(data), parser=make_parser())
    except etree.XMLSyntaxError as exc:
        return None, [problem("XML_MALFORMED", table=table, detail=str(exc)[:200])]
    if root is None:
        return None, [problem("XML_MALFORMED", table=table)]
    docinfo = root.getroottree().docinfo
    # Belt and braces: the precheck already refused these.
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        return None, [problem("XML_DTD_FORBIDDEN", table=table)]
    return root, []


def local(tag) -> str:
    """Element tag without namespace; "" for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def leaf_text(el: etree._Element) -> tuple[str | None, bool]:
    """Return (text, ok) of a leaf element: text plus the tails of comments inside it.

    ``ok`` is False when the element has element children (mixed content), which a data
    field must not have.  Surrounding whitespace is removed; an empty value is None.
    """
    if len(el) == 0:
        t = el.text
    else:
        parts = [el.text or ""]
        for child in el:
            if isinstance(child.tag, str):
                return None, False
            parts.append(child.tail or "")
        t = "".join(parts)
    if t is None:
        return None, True
    t = t.strip()
    return (t or None), True
