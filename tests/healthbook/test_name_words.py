"""The dictionary of name words (healthbook_name_word) the finder corrects a misspelt family or
middle name against: filled by the migration, kept by every way a citizen is written."""

import importlib

import pytest
from django.db import connection

from healthbook.models import Citizen, NameWord
from tests.healthbook.conftest import card_csv, person

pytestmark = pytest.mark.django_db

name_words_migration = importlib.import_module("healthbook.migrations.0012_name_words")


def words() -> set[str]:
    return set(NameWord.objects.values_list("word", flat=True))


def test_card_import_adds_the_words_of_new_citizens(import_file):
    import_file(
        card_csv(
            [
                person(1, HO_TEN="Nguyễn Văn An"),
                person(2, HO_TEN="Đặng Thị Huệ", SO_CCCD="079185200002", GIOI_TINH="2"),
            ]
        )
    )
    assert {"nguyen", "van", "an", "dang", "thi", "hue"} <= words()


def test_card_import_adds_the_words_of_a_renamed_citizen(import_file):
    import_file(card_csv([person(1, HO_TEN="Nguyễn Văn An")]), name="first.csv")
    import_file(card_csv([person(1, HO_TEN="Nguyễn Văn Ẩn Khuê")]), name="second.csv")
    assert Citizen.objects.get().search_name == "nguyen van an khue"
    assert "khue" in words()


def test_citizen_entered_by_hand_adds_its_words():
    citizen = Citizen.objects.create(full_name="Lò Văn Páo")
    assert {"lo", "van", "pao"} <= words()
    citizen.full_name = "Lò Văn Pấu"
    citizen.save()
    assert "pau" in words()


def test_bulk_created_citizens_add_their_words_once():
    # The intake creates citizens so (bulk_create … ON CONFLICT DO NOTHING).
    Citizen.objects.bulk_create(
        [Citizen(full_name=name, search_name=name.lower()) for name in ("Ma Thi Say", "Ma Van Say")],
        ignore_conflicts=True,
    )
    assert {"ma", "thi", "van", "say"} <= words()
    assert NameWord.objects.filter(word="say").count() == 1


def test_migration_fills_the_words_of_existing_citizens():
    Citizen.objects.create(full_name="Hà Thị Xuyến")
    NameWord.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(name_words_migration._FILL)
    assert {"ha", "thi", "xuyen"} <= words()
