"""Every hostile fixture gets its documented answer (tests/fixtures/hostile/README.md).

Fixtures that need a signature are signed here with the throwaway test PKI (no private key is
committed); fixtures that need a port are templates filled with a loopback listener's port.
"""

import base64
import json
import re
import socket
import threading
from pathlib import Path

import pytest
from lxml import etree

from healthbook.intake.jws import sign_detached
from healthbook.intake.pipeline import read_fhir_submission, read_xml_submission
from healthbook.intake.signature import DS

from .conftest import FACILITY, HOSTILE, sign

README = HOSTILE / "README.md"


def readme_rows():
    rows = []
    for line in README.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|.*\|\s*`([A-Z0-9_]+)`\s*\|\s*$", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


class Listener:
    """A loopback TCP listener that counts connections (S20: there must be none)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(1)
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def xml_read(body, pki, **kw):
    """The facility has registered its valid and its (now expired) certificates."""
    registered = [pki["valid"].cert, pki["valid_ec"].cert, pki["expired"].cert]
    return read_xml_submission(body, facility_code=FACILITY, certificates=registered, **kw)


def make(name: str, pki, signed: bytes, listener) -> tuple[str, bytes]:
    """Return ("xml"|"fhir", body) for a README row."""
    path = HOSTILE / name
    if path.exists():
        data = path.read_bytes()
        if name.endswith(".tmpl"):  # templates get the listener's port (signed ones are signed below)
            data = data.replace(b"{PORT}", str(listener.port).encode())
        if name.endswith(".json"):
            return "fhir", data
        if b'Id="placeholder"' in data:
            from datetime import UTC, datetime

            data = data.replace(b"{NGAYLAP}", datetime.now(UTC).strftime("%Y%m%d").encode())
            return "xml", sign(data, pki["valid"])
        return "xml", data
    # generated at test time
    if name == "generated:oversized":
        return "xml", b"<GIAMDINHHS>" + b" " * (20 * 1024 * 1024) + b"</GIAMDINHHS>"
    if name == "generated:one-byte-changed":
        i = signed.index(b"<NOIDUNGFILE>") + 40
        return "xml", signed[:i] + (b"B" if signed[i : i + 1] == b"A" else b"A") + signed[i + 1 :]
    if name.startswith("generated:xsw-"):
        root = etree.fromstring(signed)
        if name == "generated:xsw-wrapped-original":
            evil = etree.fromstring(signed)
            block = evil.find("CHUKYDONVI")
            block.remove(block[0])
            block.append(root)
            return "xml", etree.tostring(evil)
        if name == "generated:xsw-second-signature":
            root.find("THONGTINDONVI").append(
                etree.fromstring(etree.tostring(root.find(f"CHUKYDONVI/{{{DS}}}Signature")))
            )
            return "xml", etree.tostring(root)
        if name == "generated:xsw-signature-moved":
            root.append(root.find(f"CHUKYDONVI/{{{DS}}}Signature"))
            return "xml", etree.tostring(root)
        if name == "generated:xsw-extra-hoso":
            ds = root.find("THONGTINHOSO/DANHSACHHOSO")
            ds.append(etree.fromstring(etree.tostring(ds[0])))
            return "xml", etree.tostring(root)
    unsigned = signed_unsigned[0]
    if name == "generated:xsw-subelement-reference":
        body = unsigned.replace(b"<THONGTINDONVI>", b'<THONGTINDONVI Id="d1">', 1)
        return "xml", sign(body, pki["valid"], reference_uri="#d1")
    if name == "generated:expired-certificate":
        return "xml", sign(unsigned, pki["expired"])
    if name == "generated:other-facility-certificate":
        return "xml", sign(unsigned, pki["other"])
    if name == "generated:sha1-signature":
        return "xml", sign(unsigned, pki["valid"], sha1=True)
    if name == "generated:wrong-facility-code":
        return "xml", sign(unsigned.replace(b"<MACSKCB>01001<", b"<MACSKCB>01002<"), pki["valid"])
    raise AssertionError(f"README names an unknown fixture: {name}")


signed_unsigned: list[bytes] = []


def test_readme_lists_every_fixture_file():
    names = {n for n, _ in readme_rows()}
    files = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert files <= names, files - names
    assert len(readme_rows()) >= 20


@pytest.mark.parametrize(("name", "code"), readme_rows(), ids=[n for n, _ in readme_rows()])
def test_hostile_fixture_gets_its_documented_answer(name, code, pki, signed, unsigned, listener):
    signed_unsigned[:] = [unsigned]
    kind, body = make(name, pki, signed, listener)
    if kind == "fhir":
        jws = sign_detached(body, pki["valid"].key, kid=FACILITY)
        result = read_fhir_submission(body, facility_code=FACILITY, jws=jws, keys={FACILITY: pki["valid"].cert})
    else:
        result = xml_read(body, pki)
    assert not result.ok
    assert code in [p.code for p in result.problems if p.severity == "error"]
    assert listener.connections == 0


def test_entities_never_reach_the_network_even_with_signature_off(listener):
    for tmpl in ("xxe_http.xml.tmpl", "external_dtd.xml.tmpl", "parameter_entity.xml.tmpl"):
        body = (HOSTILE / tmpl).read_text().replace("{PORT}", str(listener.port)).encode()
        for data in (body, base64.b64encode(body)):
            result = read_xml_submission(data, facility_code=FACILITY, signature_required=False)
            assert [p.code for p in result.problems] == ["XML_DTD_FORBIDDEN"]
    # and a raw lxml parse with our parser, bypassing the pre-check, does not fetch either
    from healthbook.intake.xmlsafe import make_parser

    body = (HOSTILE / "xxe_http.xml.tmpl").read_text().replace("{PORT}", str(listener.port)).encode()
    try:
        root = etree.fromstring(body, parser=make_parser())
        assert "root:" not in (root.findtext("THONGTINDONVI/MACSKCB") or "")
    except etree.XMLSyntaxError:
        pass
    assert listener.connections == 0


def test_fhir_fixture_names_each_unsupported_resource(pki):
    body = (HOSTILE.parent / "fhir" / "unmapped_resources.json").read_bytes()
    jws = sign_detached(body, pki["valid"].key)
    result = read_fhir_submission(body, facility_code=FACILITY, jws=jws, keys={"k": pki["valid"].cert})
    assert {(p.code, p.table) for p in result.problems} == {
        ("FHIR_UNSUPPORTED_RESOURCE", "Claim"),
        ("FHIR_UNSUPPORTED_RESOURCE", "Practitioner"),
    }
    assert json.loads(body)["entry"][0]["resource"]["resourceType"] == "Patient"


def test_no_private_key_is_committed():
    repo = Path(__file__).resolve().parents[3]
    for p in list((repo / "tests").rglob("*")) + list((repo / "bench").rglob("*")):
        if p.is_file() and p.suffix in (".key", ".pem", ".xml", ".json", ".tmpl"):
            assert b"PRIVATE KEY" not in p.read_bytes(), p
