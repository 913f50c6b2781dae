"""Proof row T1 (issue 15, "Trust"), facilities: a province officer's bulk import registers
facilities; it does not approve them. A second officer does."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from facilities.importing import facility_import
from facilities.models import Facility, FacilityStatus
from facilities.services import facility_approve
from tests import factories as f

pytestmark = pytest.mark.django_db

ROWS = "code,name,province\n" + "".join(f"0119{n},Phòng khám Nhập Lô {n},01\n" for n in range(5))


def test_t1_bulk_imported_facilities_wait_for_a_second_officer(proof, officer_hanoi):
    row = proof.row(
        "T1",
        "a province officer bulk-imports 5 new facilities, then approves them itself; a second officer of "
        "the province approves one",
    )
    report = facility_import(acting_user=officer_hanoi, content=ROWS.encode(), file_name="lo.csv", dry_run=False)
    assert report.ok and report.new == 5
    imported = list(Facility.objects.filter(code__startswith="0119").order_by("code"))
    active_on_import = sum(fac.is_operational for fac in imported)
    self_approved = 0
    for facility in imported:
        if facility.status != FacilityStatus.PENDING:
            continue
        try:
            facility_approve(acting_user=officer_hanoi, facility=facility, reason="Hồ sơ đầy đủ")
            self_approved += 1
        except (ValidationError, PermissionDenied):
            pass
    colleague = f.province_officer("01", username="officer_hanoi_2")
    first = Facility.objects.get(pk=imported[0].pk)
    if first.status == FacilityStatus.PENDING:
        facility_approve(acting_user=colleague, facility=first, reason="Hồ sơ đầy đủ")
        first.refresh_from_db()
    row.set(
        times=len(imported) * 2 + 1,
        figure=f"facilities able to exchange data straight after the import {active_on_import}/{len(imported)}; "
        f"approved by the importer itself {self_approved}; approved by a second officer "
        f"{int(first.status == FacilityStatus.APPROVED)}/1",
    )
    assert active_on_import == 0 and self_approved == 0 and first.status == FacilityStatus.APPROVED
