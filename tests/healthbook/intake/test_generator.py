"""The generator's signed XML envelopes and FHIR bundles read back exactly as its manifest says."""

import json

from healthbook.intake.demo.submissions import generate
from healthbook.intake.pipeline import read_fhir_submission, read_xml_submission

from .conftest import FACILITY


def test_generated_submissions_are_accepted_with_expected_counts(pki, tmp_path):
    out = tmp_path / "subs"
    for leaf in ("valid", "valid_ec"):
        key = pki[leaf]
        manifest = generate(
            facility=FACILITY,
            key_pem=key.key_path.read_bytes(),
            cert_pem=key.cert_path.read_bytes(),
            citizens=4,
            visits_per_citizen=3,
            labs=20,
            drugs=5,
            out=out / leaf,
            seed=3,
        )
        for item in manifest["xml"]:
            r = read_xml_submission(
                (out / leaf / item["file"]).read_bytes(), facility_code=FACILITY, certificates=[key.cert]
            )
            assert r.status == "accepted", [(p.code, p.table, p.field) for p in r.problems]
            assert [v.encounter.key for v in r.visits] == item["ma_lk"]
            assert all(len(v.lab_results) == 20 and len(v.medications) == 5 for v in r.visits)
            assert sum(len(v.follow_ups) for v in r.visits) == item["follow_ups"]
            names = {v.patient.full_name for v in r.visits}
            assert len(names) == 1 and not names.pop().isascii()
        for item in manifest["fhir"]:
            path = out / leaf / item["file"]
            r = read_fhir_submission(
                path.read_bytes(),
                facility_code=FACILITY,
                jws=path.with_suffix(".json.jws").read_text(),
                keys={FACILITY: key.cert},
            )
            assert r.status == "accepted", [(p.code, p.table) for p in r.problems]
            got = {
                k: sum(len(getattr(v, k)) for v in r.visits)
                for k in ("immunizations", "medications", "follow_ups", "pregnancy_checkups")
            }
            assert got == {k: item[k] for k in got}
        assert json.loads((out / leaf / "manifest.json").read_text())["facility"] == FACILITY


def test_same_seed_gives_the_same_data(pki, tmp_path):
    key = pki["valid"]
    kw = dict(
        facility=FACILITY,
        key_pem=key.key_path.read_bytes(),
        cert_pem=key.cert_path.read_bytes(),
        citizens=2,
        visits_per_citizen=2,
        labs=3,
        drugs=2,
        fmt="fhir",
        seed=9,
    )
    generate(out=tmp_path / "a", **kw)
    generate(out=tmp_path / "b", **kw)
    assert (tmp_path / "a/fhir/000001.json").read_bytes() == (tmp_path / "b/fhir/000001.json").read_bytes()
