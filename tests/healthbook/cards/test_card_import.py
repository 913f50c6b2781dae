"""Importing card files: counts, merge into citizens/books/cards, reruns, duplicates, history."""

import pytest

from healthbook.models import CardBatch, Citizen, HealthBook, InsuranceCard, InsuranceCardHistory
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db


def test_valid_rows_create_citizens_books_and_cards(import_file):
    batch = import_file(card_csv([person(1), person(2), person(3)]))
    assert batch.status == CardBatch.Status.DONE
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (3, 3, 0)
    assert (batch.citizens_created, batch.books_created, batch.cards_created, batch.cards_updated) == (3, 3, 3, 0)
    citizen = Citizen.objects.get(personal_id="079085200001")
    assert citizen.search_name == "nguyen van an"
    assert citizen.book.created_via == HealthBook.CreatedVia.CARD_IMPORT
    assert citizen.card.card_number == "DN4797900000001"
    assert citizen.residence_province.code == "79"


def _problems(batch):
    return sorted((p.line, p.column, p.code) for p in batch.problems.all())


def test_invalid_rows_are_rejected_with_line_column_and_reason(import_file):
    rows = [person(1), person(2, SO_CCCD="07908520000"), person(3, GIOI_TINH="7"), person(4)]
    batch = import_file(card_csv(rows))
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (4, 2, 2)
    assert _problems(batch) == [(3, "SO_CCCD", "PID_LENGTH"), (4, "GIOI_TINH", "SEX_CODE")]
    assert Citizen.objects.count() == 2


def test_same_file_again_is_recognised_and_creates_nothing(import_file):
    data = card_csv([person(1), person(2)])
    first = import_file(data)
    again = import_file(data)
    assert again.pk == first.pk
    assert CardBatch.objects.count() == 1
    assert Citizen.objects.count() == 2


def test_reordered_rows_change_nothing(import_file):
    import_file(card_csv([person(1), person(2)]))
    batch = import_file(card_csv([person(2), person(1)]))
    assert (batch.rows_accepted, batch.citizens_created, batch.cards_created, batch.cards_updated) == (2, 0, 0, 0)
    assert InsuranceCardHistory.objects.count() == 0


def test_renewed_card_updates_and_keeps_history(import_file):
    import_file(card_csv([person(1), person(2)]))
    batch = import_file(card_csv([person(1, GT_THE_TU="20260101", GT_THE_DEN="20261231"), person(2)]))
    assert (batch.cards_created, batch.cards_updated, batch.citizens_created, batch.books_created) == (0, 1, 0, 0)
    card = InsuranceCard.objects.get(social_insurance_number="7900000001")
    assert str(card.valid_to) == "2026-12-31"
    old = InsuranceCardHistory.objects.get()
    assert (str(old.valid_to), old.replaced_by_batch_id, card.source_batch_id) == ("2025-12-31", batch.pk, batch.pk)


def test_duplicate_person_in_one_chunk_last_valid_row_wins(import_file):
    rows = [person(1, HO_TEN="Nguyễn Văn Ân"), person(2), person(1, HO_TEN="Nguyễn Văn Anh"), person(1, GIOI_TINH="9")]
    batch = import_file(card_csv(rows))
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (4, 2, 2)
    assert _problems(batch) == [(2, "MA_SO_BHXH", "DUPLICATE_PERSON"), (5, "GIOI_TINH", "SEX_CODE")]
    assert Citizen.objects.get(social_insurance_number="7900000001").full_name == "Nguyễn Văn Anh"


def test_duplicate_person_across_chunks_last_valid_row_wins(import_file, settings):
    settings.CARD_IMPORT_CHUNK_ROWS = 2
    rows = [person(1, HO_TEN="Trần Thị Bé"), person(2), person(3), person(1, HO_TEN="Trần Thị Bé Ba"), person(4)]
    batch = import_file(card_csv(rows))
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (5, 4, 1)
    assert (batch.citizens_created, batch.cards_created, batch.cards_updated) == (4, 4, 0)
    assert _problems(batch) == [(2, "MA_SO_BHXH", "DUPLICATE_PERSON")]
    assert Citizen.objects.get(social_insurance_number="7900000001").full_name == "Trần Thị Bé Ba"
    assert InsuranceCardHistory.objects.count() == 0


def test_personal_id_of_another_insured_person_is_a_conflict(import_file):
    import_file(card_csv([person(1)]))
    batch = import_file(card_csv([person(2, SO_CCCD="079085200001")]))
    assert (batch.rows_accepted, batch.rows_rejected) == (0, 1)
    assert _problems(batch) == [(2, "SO_CCCD", "PID_CONFLICT")]


def test_citizen_known_without_insurance_number_is_matched_by_personal_id(import_file):
    Citizen.objects.create(personal_id="079085200001", full_name="Nguyễn Văn An")
    batch = import_file(card_csv([person(1)]))
    assert (batch.citizens_created, batch.books_created, batch.cards_created) == (0, 1, 1)
    assert Citizen.objects.get().social_insurance_number == "7900000001"


def test_blank_optional_cells_do_not_erase_known_values(import_file):
    import_file(card_csv([person(1)]))
    import_file(card_csv([person(1, DIA_CHI="", GT_THE_DEN="20261231")]))
    assert Citizen.objects.get().address.startswith("Số 1 Lê Lợi")


def test_province_officer_rows_of_other_provinces_are_rejected(import_file, officer_hcm):
    rows = [person(1), person(2, MATINH_CU_TRU="01"), person(3, MATINH_CU_TRU="")]
    batch = import_file(card_csv(rows), user=officer_hcm)
    assert batch.scope_province.code == "79"
    assert (batch.rows_accepted, batch.rows_rejected) == (2, 1)
    assert _problems(batch) == [(3, "MATINH_CU_TRU", "OUTSIDE_PROVINCE")]


def test_unknown_primary_care_facility_is_a_warning_not_a_rejection(import_file):
    batch = import_file(card_csv([person(1, MA_DKBD="79999")]))
    assert (batch.rows_accepted, batch.rows_warned) == (1, 1)
    assert batch.problem_counts == {"FACILITY_UNKNOWN": 1}


def test_unknown_ethnicity_code_is_rejected(import_file):
    header = [*__import__("tests.healthbook.conftest", fromlist=["HEADER"]).HEADER, "MA_DANTOC"]
    batch = import_file(card_csv([person(1, MA_DANTOC="01"), person(2, MA_DANTOC="99")], header=header))
    assert _problems(batch) == [(3, "MA_DANTOC", "ETHNICITY_CODE")]
    assert Citizen.objects.get().ethnicity_code == "01"


def test_duplicates_across_chunks_when_the_card_is_unchanged(import_file, settings):
    # The card of person 1 is left as it was (same card as the first import): the batch must
    # still remember the line that carried them, each time.
    import_file(card_csv([person(1)]), name="first.csv")
    settings.CARD_IMPORT_CHUNK_ROWS = 2
    rows = [person(1), person(2), person(3), person(1), person(4), person(1, HO_TEN="Trần Văn Ba")]
    batch = import_file(card_csv(rows), name="second.csv")
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (6, 4, 2)
    assert _problems(batch) == [(2, "MA_SO_BHXH", "DUPLICATE_PERSON"), (5, "MA_SO_BHXH", "DUPLICATE_PERSON")]
    assert Citizen.objects.get(social_insurance_number="7900000001").full_name == "Trần Văn Ba"
    assert InsuranceCardHistory.objects.count() == 0


def test_duplicates_across_three_chunks_with_changed_cards(import_file, settings):
    settings.CARD_IMPORT_CHUNK_ROWS = 2
    rows = [
        person(1, GT_THE_TU="20250101"),
        person(2),
        person(1, GT_THE_TU="20250201"),
        person(3),
        person(1, GT_THE_TU="20250301"),
    ]
    batch = import_file(card_csv(rows))
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (5, 3, 2)
    assert _problems(batch) == [(2, "MA_SO_BHXH", "DUPLICATE_PERSON"), (4, "MA_SO_BHXH", "DUPLICATE_PERSON")]
    assert str(InsuranceCard.objects.get(social_insurance_number="7900000001").valid_from) == "2025-03-01"
    assert InsuranceCardHistory.objects.count() == 0


def test_free_text_reaches_the_tables_as_read(import_file):
    # The staged rows travel as COPY text: backslashes and "\N" must arrive as typed.
    address = "Số 1 \\ ngõ \\N, Lê Lợi"
    import_file(card_csv([person(1, DIA_CHI=address, HO_TEN="Nguyễn \\ An")]))
    citizen = Citizen.objects.get(social_insurance_number="7900000001")
    assert (citizen.address, citizen.full_name, citizen.legacy_id_number) == (address, "Nguyễn \\ An", "")
