from rest_framework import generics

from accounts.access import staff_visible_to
from accounts.serializers import StaffSerializer
from core.roles import IsStaffMember


class MeApi(generics.RetrieveAPIView):
    """The signed-in staff member: role and scope."""

    serializer_class = StaffSerializer
    permission_classes = [IsStaffMember]

    def get_object(self):
        return self.request.user


class StaffListApi(generics.ListAPIView):
    """Staff accounts the caller manages (scoped like the staff pages)."""

    serializer_class = StaffSerializer
    permission_classes = [IsStaffMember]

    def get_queryset(self):
        return staff_visible_to(self.request.user).select_related("province", "facility").order_by("username")
