from rest_framework import serializers

from codelists.models import CodeSystem, CodeSystemVersion, Concept


class CodeSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeSystem
        fields = ["key", "name_vi", "name_en", "canonical_url", "legal_basis", "description_vi", "max_code_length"]


class VersionSerializer(serializers.ModelSerializer):
    system = serializers.CharField(source="system.key")

    class Meta:
        model = CodeSystemVersion
        fields = ["id", "system", "label", "status", "effective_from", "effective_to", "change_note", "published_at"]


class ConceptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Concept
        fields = ["code", "display_vi", "display_en", "parent_code", "active", "properties"]


class ConceptQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    active = serializers.ChoiceField(choices=["", "0", "1"], required=False)


class ValidateQuerySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    date = serializers.DateField(required=False)


class CodeCheckSerializer(serializers.Serializer):
    code = serializers.CharField()
    ok = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    display_vi = serializers.CharField()
    properties = serializers.DictField()
    version = serializers.CharField(allow_blank=True)
