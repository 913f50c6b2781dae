from rest_framework import serializers

from accounts.models import User


class StaffSerializer(serializers.ModelSerializer):
    # Null for national staff (no province) and for provincial staff (no facility): say so in the schema.
    province = serializers.SlugRelatedField(read_only=True, slug_field="code", allow_null=True)
    facility = serializers.SlugRelatedField(read_only=True, slug_field="code", allow_null=True)

    class Meta:
        model = User
        fields = [
            "public_id",
            "username",
            "full_name",
            "email",
            "role",
            "province",
            "facility",
            "language",
            "is_active",
        ]
        read_only_fields = fields
