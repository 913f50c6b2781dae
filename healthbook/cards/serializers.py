from django.urls import reverse
from rest_framework import serializers

from healthbook.cards.selectors import card_batch_progress
from healthbook.models import CardBatch


class CardBatchUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CardBatchSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    rows_total = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()
    rejected_rows_url = serializers.SerializerMethodField()
    scope_province = serializers.CharField(source="scope_province.code", default=None)

    class Meta:
        model = CardBatch
        fields = [
            "id",
            "original_name",
            "sha256",
            "size_bytes",
            "file_format",
            "encoding",
            "delimiter",
            "scope_province",
            "status",
            "failure_code",
            "failure_message",
            "rows_total",
            "rows_estimated",
            "rows_read",
            "rows_accepted",
            "rows_rejected",
            "rows_warned",
            "problem_counts",
            "citizens_created",
            "books_created",
            "cards_created",
            "cards_updated",
            "percent",
            "created_at",
            "started_at",
            "finished_at",
            "rejected_rows_url",
        ]

    def get_rows_total(self, batch) -> int | None:
        return batch.rows_read if batch.status == CardBatch.Status.DONE else batch.rows_estimated

    def get_percent(self, batch) -> int | None:
        return card_batch_progress(batch).percent

    def get_rejected_rows_url(self, batch) -> str:
        return reverse("api-card-batch-rejected", args=[batch.public_id])
