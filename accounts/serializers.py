from rest_framework import serializers

from accounts.models import User


class StaffSerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(read_only=True, slug_field="code")
    facility = serializers.SlugRelatedField(read_only=True, slug_field="code")

    class Meta:
        model = User
        fields = ["public_id", "username", "full_name", "email", "role", "province", "facility", "language",
                  "is_active"]
        read_only_fields = fields
