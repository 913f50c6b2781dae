"""Published versions never change: the database refuses, whoever writes."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from codelists.models import CodeSystemVersion, Concept, ConceptMapping, MappingTarget, VersionStatus
from tests.codelists import factories as cf


def _refused(fn):
    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        fn()


def test_concept_of_published_version_cannot_be_edited(icd_v2):
    concept = icd_v2.concepts.get(code="A00")
    concept.display_vi = "Đổi tên"
    _refused(lambda: concept.save())
    assert Concept.objects.get(pk=concept.pk).display_vi == "Bệnh tả"


def test_raw_sql_update_is_refused_too(icd_v2):
    def raw():
        with connection.cursor() as cur:
            cur.execute("UPDATE codelists_concept SET display_vi = 'x' WHERE version_id = %s", [icd_v2.pk])

    _refused(raw)


def test_concept_cannot_be_added_to_published_version(icd_v2):
    _refused(lambda: cf.concept_rows(icd_v2, [("B01", "Mới")]))


def test_concept_cannot_be_deleted_from_published_version(icd_v2):
    _refused(lambda: icd_v2.concepts.filter(code="A00").delete())


def test_mapping_of_published_version_cannot_be_added(icd_v2):
    concept = icd_v2.concepts.get(code="A00")
    _refused(
        lambda: ConceptMapping.objects.create(concept=concept, target_system=MappingTarget.ICD10_WHO, target_code="A00")
    )


def test_published_version_cannot_be_deleted_or_relabelled(icd_v2):
    _refused(lambda: CodeSystemVersion.objects.filter(pk=icd_v2.pk).update(label="khác"))
    _refused(lambda: CodeSystemVersion.objects.filter(pk=icd_v2.pk).update(status=VersionStatus.DRAFT))
    _refused(lambda: CodeSystemVersion.objects.filter(pk=icd_v2.pk)._raw_delete(connection.alias))


def test_published_version_may_only_be_retired(icd_v2):
    CodeSystemVersion.objects.filter(pk=icd_v2.pk).update(status=VersionStatus.RETIRED, effective_to=date(2031, 1, 1))
    _refused(lambda: CodeSystemVersion.objects.filter(pk=icd_v2.pk).update(status=VersionStatus.PUBLISHED))


def test_draft_concepts_can_change(icd):
    draft = cf.version(icd, "nháp", [("A00", "Bệnh tả")], status=VersionStatus.DRAFT)
    draft.concepts.filter(code="A00").update(display_vi="Bệnh tả (sửa)")
    assert draft.concepts.get(code="A00").display_vi == "Bệnh tả (sửa)"
