from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from core.roles import IsStaffMember
from facilities.access import facility_get_for_user
from facilities.selectors import facility_list
from facilities.serializers import FacilityFilterSerializer, FacilitySerializer


class FacilityListApi(generics.ListAPIView):
    """Facilities in the caller's scope (ministry: all; province officer: their province;
    facility staff: their facility), filtered and paged."""

    serializer_class = FacilitySerializer
    permission_classes = [IsStaffMember]

    @extend_schema(parameters=[FacilityFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = FacilityFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return facility_list(user=self.request.user, **{k: v for k, v in filters.validated_data.items() if v})

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}


class FacilityDetailApi(generics.RetrieveAPIView):
    """One facility in the caller's scope, by code (404 outside it)."""

    serializer_class = FacilitySerializer
    permission_classes = [IsStaffMember]

    def get_object(self):
        return facility_get_for_user(self.request.user, self.kwargs["code"])
