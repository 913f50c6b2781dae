"""Generated signed XML 130 envelopes and FHIR bundles for one facility key: the demo history
of `make run` (seed_demo_submissions), the intake tests and the benchmarks. The command line is
bench/gen_submissions.py:

    python bench/gen_submissions.py --facility 01001 --key valid.key --cert valid.pem \\
        --citizens 100 --visits-per-citizen 3 --labs 20 --drugs 5 --out /tmp/subs \\
        [--format xml|fhir|both] [--seed 1]

All data is generated (no real person): Vietnamese names, 12-digit personal IDs, 15-character
insurance cards, ICD-10 codes from ``codelists/seed/icd10.csv`` and lab indicators (with their
units) from ``codelists/seed/lab-indicator.csv``.  Per citizen: one envelope
``xml/<n>.xml`` holding one HOSO per visit (XML1 summary, XML2 drugs, XML3 services, XML4
labs, XML5 note, XML14 follow-up for about half the visits), signed (enveloped XML-DSig in
CHUKYDONVI, RSA-SHA256 or ECDSA-SHA256 from the key type); and a FHIR bundle
``fhir/<n>.json`` (Patient, Immunization, e-prescription MedicationRequest, Appointment, and
a pregnancy check-up Encounter + Observations for women 18-45) with its detached JWS in
``fhir/<n>.json.jws`` (the value of the ``X-Signature`` header).  ``manifest.json`` lists the
files and the counts expected when they are read back.
"""

from __future__ import annotations

import base64
import csv
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

SEED_DIR = Path(__file__).resolve().parents[3] / "codelists" / "seed"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tuấn"]
GIVEN_F = ["Anh", "Chi", "Dung", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Nga", "Phương", "Thảo", "Trang"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ"]
ICD_PREFIXES = ("E11", "I10", "J06", "K29", "A09", "J18", "N39", "M54", "E78", "K21", "J20", "I25")
DRUGS = [
    ("40.1", "Paracetamol 500mg", "500mg", "Viên", "1.01", "Viên nén", 520),
    ("40.218", "Amoxicilin 500mg", "500mg", "Viên", "1.01", "Viên nang", 1450),
    ("40.677", "Metformin 850mg", "850mg", "Viên", "1.01", "Viên nén", 780),
    ("40.473", "Amlodipin 5mg", "5mg", "Viên", "1.01", "Viên nén", 650),
    ("40.691", "Omeprazol 20mg", "20mg", "Viên", "1.01", "Viên nang", 900),
    ("40.517", "Atorvastatin 20mg", "20mg", "Viên", "1.01", "Viên nén", 1900),
    ("40.96", "Loratadin 10mg", "10mg", "Viên", "1.01", "Viên nén", 400),
    ("40.1005", "Vitamin B1 100mg", "100mg", "Viên", "1.01", "Viên nén", 150),
]
VACCINES = ["TCMR-BCG", "TCMR-VGB-SS"]
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
FREE_TEXT = {
    "HO_TEN",
    "DIA_CHI",
    "CHAN_DOAN_VAO",
    "CHAN_DOAN_RV",
    "LY_DO_VV",
    "TEN_THUOC",
    "TEN_DICH_VU",
    "TEN_CHI_SO",
    "DIEN_BIEN_LS",
    "KET_LUAN",
    "MO_TA",
    "LIEU_DUNG",
    "CACH_DUNG",
    "GHI_CHU",
    "PP_DIEU_TRI",
}


def load_seed() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(ICD-10 leaf codes + names) and (lab indicator code, name, unit) from the seed files."""
    seed = SEED_DIR
    icd = []
    with (seed / "icd10.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            props = json.loads(row["properties"] or "{}")
            if props.get("leaf") and row["code"].startswith(ICD_PREFIXES):
                icd.append((row["code"], row["display_vi"]))
    labs = []
    with (seed / "lab-indicator.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            props = json.loads(row["properties"] or "{}")
            if props.get("kind") == "indicator" and props.get("unit"):
                labs.append((row["code"], row["display_vi"], props["unit"]))
    return icd, labs


# One commune (of the 3,321 in force since 1 July 2025) per province the generator uses.
COMMUNE_OF = {"01": "00070", "79": "26743", "48": "20242", "31": "11560", "92": "31135"}
# Hà Nội's demo people live in a few of its central wards (Hoàn Kiếm, Ba Đình, Ngọc Hà, Đống Đa,
# Hai Bà Trưng, Láng), so the cohort pages of province 01 show more than one commune.
HANOI_COMMUNES = ("00070", "00004", "00008", "00235", "00256", "00187")


def commune_of(citizen: dict) -> str:
    """The commune of residence sent for a demo person (by their number in Hà Nội)."""
    if citizen["province"] == "01":
        return HANOI_COMMUNES[citizen.get("n", 0) % len(HANOI_COMMUNES)]
    return COMMUNE_OF.get(citizen["province"], "")


def make_citizen(rng: random.Random, n: int) -> dict:
    female = rng.random() < 0.5
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    province = rng.choice(["01", "79", "48", "31", "92"])
    century = (0 if born.year < 2000 else 2) + (1 if female else 0)
    pid = f"0{province}{century}{born.year % 100:02d}{rng.randrange(10**6):06d}"
    sin = f"{rng.randrange(10**9, 10**10)}"
    return {
        "n": n,
        "name": f"{rng.choice(FAMILY)} {middle} {given}",
        "female": female,
        "born": born,
        "pid": pid,
        "sin": sin,
        "card": f"{rng.choice(['DN', 'HT', 'GD', 'HS', 'CN'])}4{province}{sin}",
        "province": province,
        "address": f"Số {rng.randrange(1, 300)} {rng.choice(STREETS)}, Phường {rng.randrange(1, 20)}",
        "patient_id": f"BN{n:08d}",
    }


def _ts(d: datetime) -> str:
    return d.strftime("%Y%m%d%H%M")


def make_visit(
    rng,
    citizen,
    facility: str,
    k: int,
    when: datetime,
    icd,
    labs,
    n_labs: int,
    n_drugs: int,
    *,
    clinical: dict | None = None,
) -> dict:
    """Rows of every table of one visit (field -> string). Without `clinical` the diagnosis,
    drugs and lab values are drawn at random (the intake tests and benchmarks); with it
    (healthbook.intake.demo.stories: the demo of `make run`) they are given: "diagnosis" (code,
    name), "secondary" [codes], "drugs" [rows of DRUGS], "labs" [(code, name, unit, value)],
    "note" (XML5), "follow_up_days" (0: none), "weight" (kg)."""
    clinical = clinical or {}
    ma_lk = f"{facility}{when:%Y%m%d}{citizen['n']:06d}{k:02d}"
    code, name = clinical.get("diagnosis") or rng.choice(icd)
    extra = clinical["secondary"] if "secondary" in clinical else [c for c, _n in rng.sample(icd, 2) if c != code]
    out_at = when + timedelta(minutes=rng.randrange(45, 240))
    doctor = f"{rng.randrange(10**5, 10**6)}/BYT-CCHN"
    money = {f: "0" for f in ("T_VTYT", "T_BNTT", "T_NGUONKHAC", "T_BHTT_GDV")}
    drugs = []
    t_thuoc = 0
    given = clinical["drugs"] if "drugs" in clinical else rng.sample(DRUGS, min(n_drugs, len(DRUGS)))
    for i, (mt, tn, hl, dvt, dd, dbc, price) in enumerate(given, start=1):
        qty = rng.choice([10, 14, 20, 30])
        total = qty * price
        t_thuoc += total
        drugs.append(
            {
                "MA_LK": ma_lk,
                "STT": str(i),
                "MA_THUOC": mt,
                "MA_NHOM": "4",
                "TEN_THUOC": tn,
                "DON_VI_TINH": dvt,
                "HAM_LUONG": hl,
                "DUONG_DUNG": dd,
                "DANG_BAO_CHE": dbc,
                "LIEU_DUNG": f"1 {dvt.lower()}/lần _ 2 lần/ngày _ {qty // 2} ngày",
                "CACH_DUNG": "Uống sau ăn",
                "SO_DANG_KY": f"VD-{rng.randrange(10000, 99999)}-{rng.randrange(10, 24)}",
                "TT_THAU": "123/QĐ-SYT;G1;N4;2024",
                "PHAM_VI": "1",
                "TYLE_TT_BH": "100",
                "SO_LUONG": str(qty),
                "DON_GIA": str(price),
                "THANH_TIEN_BV": str(total),
                "THANH_TIEN_BH": str(total),
                "T_NGUONKHAC_NSNN": "0",
                "T_NGUONKHAC_VTNN": "0",
                "T_NGUONKHAC_VTTN": "0",
                "T_NGUONKHAC_CL": "0",
                "T_NGUONKHAC": "0",
                "MUC_HUONG": "80",
                "T_BNTT": "0",
                "T_BNCCT": str(total // 5),
                "T_BHTT": str(total - total // 5),
                "MA_KHOA": "K01",
                "MA_BAC_SI": doctor,
                "NGAY_YL": _ts(when + timedelta(minutes=30)),
                "NGAY_TH_YL": _ts(when + timedelta(minutes=35)),
                "MA_PTTT": "1",
                "NGUON_CTRA": "1",
            }
        )

    def service(i, svc, label, price, group):
        return {
            "MA_LK": ma_lk,
            "STT": str(i),
            "MA_DICH_VU": svc,
            "MA_NHOM": group,
            "TEN_DICH_VU": label,
            "DON_VI_TINH": "Lần",
            "PHAM_VI": "1",
            "SO_LUONG": "1",
            "DON_GIA_BV": str(price),
            "DON_GIA_BH": str(price),
            "TYLE_TT_DV": "100",
            "TYLE_TT_BH": "100",
            "THANH_TIEN_BV": str(price),
            "THANH_TIEN_BH": str(price),
            "MUC_HUONG": "80",
            "T_NGUONKHAC_NSNN": "0",
            "T_NGUONKHAC_VTNN": "0",
            "T_NGUONKHAC_VTTN": "0",
            "T_NGUONKHAC_CL": "0",
            "T_NGUONKHAC": "0",
            "T_BNTT": "0",
            "T_BNCCT": str(price // 5),
            "T_BHTT": str(price - price // 5),
            "MA_KHOA": "K01",
            "MA_BAC_SI": doctor,
            "NGUOI_THUC_HIEN": doctor,
            "MA_BENH": code,
            "NGAY_YL": _ts(when + timedelta(minutes=5)),
            "NGAY_TH_YL": _ts(when + timedelta(minutes=10)),
            "NGAY_KQ": _ts(when + timedelta(minutes=40)),
            "MA_PTTT": "1",
        }

    services = [
        service(1, "02.1896", "Khám Nội", 37500, "13"),
        service(2, "23.0075.1494", "Xét nghiệm máu", 45000, "1"),
    ]
    lab_rows = []
    values = clinical.get("labs")
    if values is None:
        values = [(*labs[(i - 1) % len(labs)], f"{rng.uniform(1, 150):.2f}") for i in range(1, n_labs + 1)]
    for i, (lc, ln, unit, value) in enumerate(values, start=1):
        lab_rows.append(
            {
                "MA_LK": ma_lk,
                "STT": str(i),
                "MA_DICH_VU": "23.0075.1494",
                "MA_CHI_SO": lc,
                "TEN_CHI_SO": ln,
                "GIA_TRI": value,
                "DON_VI_DO": unit,
                "NGAY_KQ": _ts(when + timedelta(minutes=40)),
                "MA_BS_DOC_KQ": doctor,
            }
        )
    total = t_thuoc + 82500
    xml1 = {
        "MA_LK": ma_lk,
        "STT": "1",
        "MA_BN": citizen["patient_id"],
        "HO_TEN": citizen["name"],
        "SO_CCCD": citizen["pid"],
        "NGAY_SINH": citizen["born"].strftime("%Y%m%d") + "0000",
        "GIOI_TINH": "2" if citizen["female"] else "1",
        "MA_QUOCTICH": "000",
        "MA_DANTOC": "01",
        "MA_NGHE_NGHIEP": "00000",
        "DIA_CHI": citizen["address"],
        "MATINH_CU_TRU": citizen["province"],
        # Post-reform (1 July 2025): no district, a commune of the list (healthbook.intake.residence).
        "MAHUYEN_CU_TRU": "",
        "MAXA_CU_TRU": commune_of(citizen),
        "DIEN_THOAI": f"09{rng.randrange(10**8):08d}",
        "MA_THE_BHYT": citizen["card"],
        "MA_DKBD": facility,
        "GT_THE_TU": f"{when.year}0101",
        "GT_THE_DEN": f"{when.year}1231",
        "LY_DO_VV": "Khám bệnh",
        "CHAN_DOAN_VAO": name,
        "CHAN_DOAN_RV": name,
        "MA_BENH_CHINH": code,
        "MA_BENH_KT": ";".join(extra),
        "MA_DOITUONG_KCB": "1.1",
        "NGAY_VAO": _ts(when),
        "NGAY_RA": _ts(out_at),
        "SO_NGAY_DTRI": "0",
        "KET_QUA_DTRI": "2",
        "MA_LOAI_RV": "1",
        "NGAY_TTOAN": _ts(out_at),
        "T_THUOC": str(t_thuoc),
        "T_TONGCHI_BV": str(total),
        "T_TONGCHI_BH": str(total),
        "T_BNCCT": str(total // 5),
        "T_BHTT": str(total - total // 5),
        "NAM_QT": str(when.year),
        "THANG_QT": str(when.month),
        "MA_LOAI_KCB": "01",
        "MA_KHOA": "K01",
        "MA_CSKCB": facility,
        "CAN_NANG": f"{clinical.get('weight') or rng.uniform(40, 85):.2f}",
        "MA_HSBA": f"HS{citizen['n']:06d}{k:02d}",
        "MA_TTDV": "0123456789",
        **money,
    }
    tables = {"XML1": [xml1], "XML2": drugs, "XML3": services, "XML4": lab_rows}
    tables["XML5"] = [
        {
            "MA_LK": ma_lk,
            "STT": "1",
            "DIEN_BIEN_LS": clinical.get("note") or "Mạch 80 l/p, HA 120/80 mmHg, nhiệt độ 36,8°C. Tỉnh, tiếp xúc tốt.",
            "THOI_DIEM_DBLS": _ts(when + timedelta(minutes=15)),
            "NGUOI_THUC_HIEN": doctor,
        }
    ]
    follow_days = clinical.get("follow_up_days")
    if follow_days is None and k % 2 == 1:
        follow_days = rng.choice([7, 14, 30])
    if follow_days:
        follow = (out_at + timedelta(days=follow_days)).replace(hour=8, minute=0)
        xml1["NGAY_TAI_KHAM"] = follow.strftime("%Y%m%d")
        tables["XML14"] = [
            {
                "MA_LK": ma_lk,
                "SO_GIAYHEN_KL": f"GH{citizen['n']:06d}{k:02d}",
                "MA_CSKCB": facility,
                "HO_TEN": citizen["name"],
                "NGAY_SINH": xml1["NGAY_SINH"],
                "GIOI_TINH": xml1["GIOI_TINH"],
                "DIA_CHI": citizen["address"],
                "MA_THE_BHYT": citizen["card"],
                "GT_THE_DEN": xml1["GT_THE_DEN"],
                "NGAY_VAO": xml1["NGAY_VAO"],
                "NGAY_RA": xml1["NGAY_RA"],
                "NGAY_HEN_KL": _ts(follow),
                "CHAN_DOAN_RV": name,
                "MA_BENH_CHINH": code,
                "MA_BENH_KT": xml1["MA_BENH_KT"],
                "MA_DOITUONG_KCB": "1.1",
                "MA_BAC_SI": doctor,
                "MA_TTDV": "0123456789",
                "NGAY_CT": out_at.strftime("%Y%m%d"),
            }
        ]
    return tables


def table_xml(key: str, rows: list[dict], spec) -> bytes:
    """Inner table document, fields in the official order (from the spec)."""
    ts = spec[key]
    out = ['<?xml version="1.0" encoding="utf-8"?>', f"<{ts.root}>"]
    if ts.list:
        out.append(f"<{ts.list}>")
    for row in rows:
        if ts.list:
            out.append(f"<{ts.record}>")
        for fs in ts.fields:
            v = row.get(fs.name, "")
            if fs.name in FREE_TEXT and v:
                out.append(f"<{fs.name}><![CDATA[{v}]]></{fs.name}>")
            else:
                out.append(f"<{fs.name}>{escape(v)}</{fs.name}>")
        if ts.list:
            out.append(f"</{ts.record}>")
    if ts.list:
        out.append(f"</{ts.list}>")
    out.append(f"</{ts.root}>")
    return "\n".join(out).encode("utf-8")


def build_envelope(facility: str, visits: list[dict], ngaylap: date, spec) -> bytes:
    """Unsigned GIAMDINHHS with a signature placeholder inside CHUKYDONVI."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<GIAMDINHHS xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        f"<THONGTINDONVI><MACSKCB>{facility}</MACSKCB></THONGTINDONVI>",
        f"<THONGTINHOSO><NGAYLAP>{ngaylap:%Y%m%d}</NGAYLAP><SOLUONGHOSO>{len(visits)}</SOLUONGHOSO><DANHSACHHOSO>",
    ]
    for tables in visits:
        parts.append("<HOSO>")
        for key, rows in tables.items():
            b64 = base64.b64encode(table_xml(key, rows, spec)).decode("ascii")
            parts.append(f"<FILEHOSO><LOAIHOSO>{key}</LOAIHOSO><NOIDUNGFILE>{b64}</NOIDUNGFILE></FILEHOSO>")
        parts.append("</HOSO>")
    parts.append("</DANHSACHHOSO></THONGTINHOSO>")
    parts.append(f'<CHUKYDONVI><ds:Signature xmlns:ds="{DS_NS}" Id="placeholder"/></CHUKYDONVI></GIAMDINHHS>')
    return "".join(parts).encode("utf-8")


def sign_envelope(xml: bytes, key_pem: bytes, cert_pem: bytes) -> bytes:
    """Enveloped XML-DSig (URI="", C14N 1.0) into the CHUKYDONVI placeholder."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from lxml import etree
    from signxml import XMLSigner, methods

    key = load_pem_private_key(key_pem, password=None)
    alg = "ecdsa-sha256" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=alg,
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    )
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    signed = signer.sign(root, key=key, cert=cert_pem.decode("ascii"))
    return etree.tostring(signed, xml_declaration=True, encoding="utf-8")


def build_fhir_bundle(rng, citizen: dict, facility: str, when: datetime) -> tuple[bytes, dict]:
    """A FHIR R4 collection Bundle and the counts expected when it is read back."""
    from healthbook.intake.fhir_bundle import SYSTEMS

    pid = f"p{citizen['n']}"
    tz = "+07:00"
    entries = [
        {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [
                {"system": SYSTEMS["personal_id"], "value": citizen["pid"]},
                {"system": SYSTEMS["social_insurance"], "value": citizen["sin"]},
            ],
            "name": [{"text": citizen["name"]}],
            "gender": "female" if citizen["female"] else "male",
            "birthDate": citizen["born"].isoformat(),
        }
    ]
    vac = rng.choice(VACCINES)
    entries.append(
        {
            "resourceType": "Immunization",
            "id": f"imm{citizen['n']}",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "https://sskdt.example.vn/fhir/CodeSystem/vaccine", "code": vac}]},
            "patient": {"reference": f"Patient/{pid}"},
            "occurrenceDateTime": f"{when:%Y-%m-%dT%H:%M:%S}{tz}",
            "lotNumber": f"L{rng.randrange(10**5):05d}",
            "protocolApplied": [{"doseNumberPositiveInt": 1}],
        }
    )
    rx = f"{facility}{rng.randrange(10**7):07d}-c"
    entries.append(
        {
            "resourceType": "MedicationRequest",
            "id": f"mr{citizen['n']}",
            "status": "active",
            "intent": "order",
            "identifier": [{"system": SYSTEMS["prescription"], "value": rx}],
            "medicationCodeableConcept": {
                "coding": [
                    {
                        "system": "https://sskdt.example.vn/fhir/CodeSystem/drug",
                        "code": "40.1",
                        "display": "Paracetamol 500mg",
                    }
                ]
            },
            "subject": {"reference": f"Patient/{pid}"},
            "authoredOn": f"{when:%Y-%m-%dT%H:%M:%S}{tz}",
            "dosageInstruction": [{"text": "1 viên/lần _ 2 lần/ngày _ 5 ngày"}],
            "dispenseRequest": {"quantity": {"value": 10, "unit": "viên"}},
        }
    )
    appt = when + timedelta(days=30)
    entries.append(
        {
            "resourceType": "Appointment",
            "id": f"ap{citizen['n']}",
            "status": "booked",
            "start": f"{appt:%Y-%m-%dT08:00:00}{tz}",
            "end": f"{appt:%Y-%m-%dT08:30:00}{tz}",
            "description": "Tái khám",
            "participant": [{"actor": {"reference": f"Patient/{pid}"}, "status": "accepted"}],
        }
    )
    expected = {"immunizations": 1, "medications": 1, "follow_ups": 1, "pregnancy_checkups": 0}
    age = when.year - citizen["born"].year
    if citizen["female"] and 18 <= age <= 45:
        eid = f"enc{citizen['n']}"
        entries.append(
            {
                "resourceType": "Encounter",
                "id": eid,
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "subject": {"reference": f"Patient/{pid}"},
                "period": {"start": f"{when:%Y-%m-%dT%H:%M:%S}{tz}"},
            }
        )

        def obs(oid, code, **value):
            return {
                "resourceType": "Observation",
                "id": f"{oid}{citizen['n']}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
                "encounter": {"reference": f"Encounter/{eid}"},
                "effectiveDateTime": f"{when:%Y-%m-%dT%H:%M:%S}{tz}",
                **value,
            }

        def q(v, unit, code):
            return {"valueQuantity": {"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": code}}

        edd = when.date() + timedelta(days=140)
        entries += [
            obs("ga", "11884-4", **q(20, "wk", "wk")),
            obs("wt", "29463-7", **q(58.5, "kg", "kg")),
            obs("fh", "11881-0", **q(20, "cm", "cm")),
            obs("fhr", "55283-6", **q(142, "/min", "/min")),
            obs("edd", "11778-8", valueDateTime=edd.isoformat()),
            {
                **obs("bp", "85354-9"),
                "component": [
                    {
                        "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                        **q(110, "mmHg", "mm[Hg]"),
                    },
                    {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, **q(70, "mmHg", "mm[Hg]")},
                ],
            },
        ]
        expected["pregnancy_checkups"] = 1
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), expected


def generate(
    *,
    facility,
    key_pem,
    cert_pem,
    citizens,
    visits_per_citizen,
    labs,
    drugs,
    out: Path,
    fmt="both",
    seed=1,
    today: date | None = None,
    per_envelope: int = 1,
) -> dict:
    """Write the files; return the manifest. `per_envelope` citizens share one XML envelope
    (1: one envelope per citizen; more: a facility's day file with many people's visits)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from healthbook.intake.jws import sign_detached
    from healthbook.intake.xml130 import load_spec

    rng = random.Random(seed)
    spec = load_spec()
    icd, lab_list = load_seed()
    today = today or date.today()
    key = load_pem_private_key(key_pem, password=None)
    jws_alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"
    manifest = {"facility": facility, "xml": [], "fhir": []}
    (out / "xml").mkdir(parents=True, exist_ok=True)
    (out / "fhir").mkdir(parents=True, exist_ok=True)
    pending: list = []
    for n in range(1, citizens + 1):
        c = make_citizen(rng, n)
        if fmt in ("xml", "both"):
            for k in range(1, visits_per_citizen + 1):
                when = datetime.combine(
                    today - timedelta(days=rng.randrange(1, 20) + 20 * (visits_per_citizen - k)), datetime.min.time()
                ).replace(hour=rng.randrange(7, 16), minute=rng.randrange(60))
                pending.append(make_visit(rng, c, facility, k, when, icd, lab_list, labs, drugs))
            if n % per_envelope == 0 or n == citizens:
                visits, pending = pending, []
                body = sign_envelope(build_envelope(facility, visits, today, spec), key_pem, cert_pem)
                path = out / "xml" / f"{n:06d}.xml"
                path.write_bytes(body)
                manifest["xml"].append(
                    {
                        "file": str(path.relative_to(out)),
                        "visits": len(visits),
                        "ma_lk": [v["XML1"][0]["MA_LK"] for v in visits],
                        "follow_ups": sum("XML14" in v for v in visits),
                    }
                )
        if fmt in ("fhir", "both"):
            when = datetime.combine(today - timedelta(days=1), datetime.min.time()).replace(hour=9)
            body, expected = build_fhir_bundle(rng, c, facility, when)
            path = out / "fhir" / f"{n:06d}.json"
            path.write_bytes(body)
            path.with_suffix(".json.jws").write_text(sign_detached(body, key, alg=jws_alg, kid=facility))
            manifest["fhir"].append({"file": str(path.relative_to(out)), **expected})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest
