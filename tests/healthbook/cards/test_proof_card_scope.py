"""Proof row T5: a province officer's card batch changes only citizens whose book is in that
province, judged by the stored citizen, not by the row's own MATINH_CU_TRU.

As the review tried it on main: one row of a Hà Nội officer's batch, claiming residence in Hà
Nội, changed a Hồ Chí Minh City citizen's name, birth date, sex and province, and set MA_DKBD so
that a chosen facility's doctors got access. The same rows go through the CSV fast path
(healthbook.cards.fastrows) and through the full rules (an XLSX file): both must refuse them.
"""

import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied

from healthbook.models import CardBatchProblem, Citizen, InsuranceCard
from tests.healthbook.conftest import HEADER, card_csv, person
from tests.healthbook.intake.carepath import can_open

pytestmark = pytest.mark.django_db


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append([row.get(h, "") for h in HEADER])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


REWRITE = {
    "HO_TEN": "Kẻ Mạo Danh",
    "NGAY_SINH": "19900101",
    "GIOI_TINH": "2",
    "SO_CCCD": "",
    "MATINH_CU_TRU": "01",
    "MA_DKBD": "01001",
    "GT_THE_TU": "20260101",
    "GT_THE_DEN": "20991231",
    "DIA_CHI": "Hà Nội",
}


def _state(n: int):
    c = Citizen.objects.select_related("card").get(social_insurance_number=f"79{n:08d}")
    return (c.full_name, c.birth_date, c.sex, c.residence_province.code, c.card.primary_care_facility_code)


def test_t5_an_officers_batch_cannot_rewrite_another_provinces_citizens(
    proof, import_file, officer_hanoi, facility_a, doctor_a
):
    row = proof.row(
        "T5",
        "a Hà Nội officer's batch rows (CSV fast path and XLSX full rules) claiming Hà Nội residence for "
        "Hồ Chí Minh City citizens: new name, birth date, sex, province and MA_DKBD of a Hà Nội facility; "
        "one citizen known only by personal ID",
    )
    import_file(card_csv([person(n) for n in (1, 2, 3)]))  # national batch: three citizens of TP. HCM
    hcm = Citizen.objects.get(social_insurance_number="7900000001").residence_province_id
    Citizen.objects.create(personal_id="079085200009", full_name="Chỉ Có Số Định Danh", residence_province_id=hcm)
    before = {n: _state(n) for n in (1, 2)}
    csv_batch = import_file(card_csv([person(1, **REWRITE)]), user=officer_hanoi, name="hn.csv")
    xlsx_batch = import_file(xlsx([person(2, **REWRITE)]), user=officer_hanoi, name="hn.xlsx")
    pid_batch = import_file(
        card_csv([person(9, **{**REWRITE, "SO_CCCD": "079085200009", "GIOI_TINH": "1", "NGAY_SINH": "19850101"})]),
        user=officer_hanoi,
        name="hn2.csv",
    )
    batches = (csv_batch, xlsx_batch, pid_batch)
    accepted = sum(b.rows_accepted for b in batches)
    adopted = Citizen.objects.get(personal_id="079085200009")
    changed = sum(_state(n) != before[n] for n in (1, 2)) + (adopted.full_name != "Chỉ Có Số Định Danh")
    codes = sorted(CardBatchProblem.objects.filter(batch__in=batches).values_list("code", flat=True))
    targets = Citizen.objects.filter(social_insurance_number__in=["7900000001", "7900000002"]).select_related("book")
    opened = sum(can_open(doctor_a, c) for c in targets)
    row.set(
        times=3,
        figure=f"rows accepted {accepted}/3; citizens changed {changed}; "
        f"books opened to the chosen facility {opened}; reasons {', '.join(codes)}",
    )
    assert accepted == 0 and changed == 0 and opened == 0
    assert adopted.full_name == "Chỉ Có Số Định Danh" and not InsuranceCard.objects.filter(citizen=adopted).exists()
    assert codes == ["CITIZEN_OTHER_PROVINCE"] * 3


def test_an_officer_still_creates_and_updates_citizens_of_their_province(import_file, officer_hanoi):
    rows = [person(n, MATINH_CU_TRU="01", MA_DKBD="01001") for n in (1, 2)]
    first = import_file(card_csv(rows), user=officer_hanoi, name="a.csv")
    assert (first.rows_accepted, first.citizens_created) == (2, 2)
    renewed = [dict(r, GT_THE_DEN="20261231", HO_TEN="Nguyễn Văn Bình") for r in rows]
    second = import_file(card_csv(renewed), user=officer_hanoi, name="b.csv")
    assert (second.rows_accepted, second.rows_rejected, second.cards_updated) == (2, 0, 2)
    assert set(Citizen.objects.values_list("full_name", flat=True)) == {"Nguyễn Văn Bình"}


def test_an_officer_cannot_move_a_citizen_out_of_their_province(import_file, officer_hanoi, officer_hcm):
    import_file(card_csv([person(1)]), user=officer_hcm)
    batch = import_file(card_csv([person(1, MATINH_CU_TRU="01", GT_THE_DEN="20261231")]), user=officer_hcm, name="m")
    assert batch.rows_rejected == 1 and _state(1)[3] == "79"


def test_national_imports_are_the_ministry_administrators_only(import_file, ministry_editor, ministry_admin):
    from healthbook.cards.access import card_import_scope

    with pytest.raises(PermissionDenied):
        import_file(card_csv([person(1)]), user=ministry_editor)
    assert card_import_scope(ministry_admin) is None
    batch = import_file(card_csv([person(1)]), user=ministry_admin)
    assert batch.scope_province_id is None and batch.rows_accepted == 1


def test_the_command_line_runs_an_import_with_the_rights_of_the_named_user(
    card_codelists, officer_hanoi, tmp_path, settings
):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.MEDIA_ROOT = str(tmp_path / "media")
    path = tmp_path / "cards.csv"
    path.write_bytes(card_csv([person(1)]))
    out = io.StringIO()
    call_command("import_cards", str(path), "--sync", "--user", "officer_hanoi", stdout=out, stderr=io.StringIO())
    from healthbook.models import CardBatch

    batch = CardBatch.objects.get()
    assert batch.scope_province.code == "01" and batch.uploaded_by == officer_hanoi
    assert batch.rows_rejected == 1 and batch.rows_accepted == 0
    with pytest.raises(CommandError):
        call_command("import_cards", str(path), "--user", "nobody-here", stdout=out, stderr=io.StringIO())
