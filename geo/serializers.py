from rest_framework import serializers

from geo.models import Province


class ProvinceSerializer(serializers.ModelSerializer):
    old_codes = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")

    class Meta:
        model = Province
        fields = ["code", "name_vi", "name_en", "population_approx", "population_is_approximate", "old_codes"]
