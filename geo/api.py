from rest_framework import generics

from core.roles import IsStaffMember
from geo.access import provinces_visible_to
from geo.serializers import ProvinceSerializer


class ProvinceListApi(generics.ListAPIView):
    """The provinces the caller may see (all 34 for national roles, their own for others)."""

    serializer_class = ProvinceSerializer
    permission_classes = [IsStaffMember]  # like every portal API: an account without a role gets 403
    pagination_class = None

    def get_queryset(self):
        return provinces_visible_to(self.request.user).prefetch_related("old_codes")
