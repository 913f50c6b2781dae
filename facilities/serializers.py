from rest_framework import serializers

from facilities.models import Facility, FacilityStatus, Level, Ownership


class FacilityFilterSerializer(serializers.Serializer):
    """Query parameters of the facility list; unknown choice values are a 400, not an empty page."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    province = serializers.RegexField(r"^[0-9]{2}$", required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=FacilityStatus.choices, required=False, allow_blank=True)
    ownership = serializers.ChoiceField(choices=Ownership.choices, required=False, allow_blank=True)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    silent = serializers.ChoiceField(choices=["0", "1"], required=False, allow_blank=True)
    insurance = serializers.ChoiceField(choices=["0", "1"], required=False, allow_blank=True)


class FacilitySerializer(serializers.ModelSerializer):
    province = serializers.SlugRelatedField(read_only=True, slug_field="code")
    province_name = serializers.CharField(source="province.name_vi", read_only=True)
    commune_code = serializers.CharField(
        source="commune_unit.code", read_only=True, default="", help_text="5-digit commune code (QĐ 19/2025)."
    )
    is_silent = serializers.SerializerMethodField()
    # Often unknown: an empty string, which the "email" format of the schema would not allow.
    contact_email = serializers.CharField(read_only=True, help_text="Email address, or an empty string when unknown.")

    class Meta:
        model = Facility
        fields = [
            "public_id",
            "code",
            "name",
            "province",
            "province_name",
            "commune",
            "commune_code",
            "address",
            "ownership",
            "level",
            "has_insurance_contract",
            "contact_name",
            "contact_phone",
            "contact_email",
            "latitude",
            "longitude",
            "expected_monthly_visits",
            "status",
            "approved_at",
            "first_accepted_at",
            "last_contact_at",
            "last_accepted_at",
            "is_silent",
        ]
        read_only_fields = fields

    def get_is_silent(self, obj) -> bool:
        from facilities.health import facility_is_silent

        return facility_is_silent(obj, self.context.get("now"))
