"""factory_boy factories shared by the test suite (generated data only)."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from core.roles import Role
from facilities.models import Facility
from geo.models import Province

TEST_PASSWORD = "Test-password-2025!"  # noqa: S105 — generated test accounts only


def province(code: str) -> Province:
    return Province.objects.get(code=code)


class FacilityFactory(DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"01{n:03d}")
    name = factory.Sequence(lambda n: f"Cơ sở thử nghiệm {n}")
    province = factory.LazyFunction(lambda: province("01"))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@test.invalid")
    full_name = factory.Faker("name", locale="vi_VN")
    role = Role.DOCTOR
    # Approved by the second party (a doctor by the province, a ministry admin by another admin);
    # pass approved_at=None for an account that waits for it.
    approved_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


_certificates = iter(range(1, 10**6))


def doctor(facility: Facility, **kw) -> User:
    """A doctor at the facility, confirmed by the province (approved_at=None: waiting for it)."""
    kw.setdefault("practising_certificate", f"{next(_certificates):06d}/TEST-CCHN")
    return UserFactory(role=Role.DOCTOR, facility=facility, province=facility.province, **kw)


def facility_admin(facility: Facility, **kw) -> User:
    return UserFactory(role=Role.FACILITY_ADMIN, facility=facility, province=facility.province, **kw)


def province_officer(province_code: str, **kw) -> User:
    return UserFactory(role=Role.PROVINCE_OFFICER, province=province(province_code), **kw)


def ministry(role: str = Role.MINISTRY_ADMIN, **kw) -> User:
    return UserFactory(role=role, **kw)
