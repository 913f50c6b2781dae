"""Insurance-card import batches: one uploaded file, its progress and its rejected rows."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CardBatch(models.Model):
    """One card file from Vietnam Social Security, imported chunk by chunk.

    The raw file is stored with its SHA-256; the same file again is the same batch. The
    counters are advanced in the same transaction as each chunk's merge, so after any crash
    they describe exactly what is in the database: rows_read = rows_accepted + rows_rejected,
    and the next run starts at data row rows_read + 1.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    # A batch whose runs may still write.
    LIVE = (Status.QUEUED, Status.RUNNING)

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # One batch per file *and scope*: the same bytes uploaded by another province are that
    # province's own batch (its rows outside the province are rejected anyway), so the upload
    # never tells whether someone elsewhere imported the file (issue 15, attack 15).
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    file = models.FileField(_("stored file"), upload_to="card-batches/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"))
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    encoding = models.CharField(_("encoding"), max_length=32, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    columns = models.JSONField(_("columns"), default=dict, blank=True, help_text="header position -> canonical column")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scope_province = models.ForeignKey(
        "geo.Province",
        verbose_name=_("limited to province"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Set for a provincial officer's batch: rows of other provinces are rejected."),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.TextField(blank=True)

    rows_estimated = models.PositiveBigIntegerField(null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_accepted = models.PositiveBigIntegerField(default=0)
    rows_rejected = models.PositiveBigIntegerField(default=0)
    rows_warned = models.PositiveBigIntegerField(default=0)
    problem_counts = models.JSONField(default=dict, blank=True, help_text="reason code -> number of findings")
    citizens_created = models.PositiveBigIntegerField(default=0)
    books_created = models.PositiveBigIntegerField(default=0)
    cards_created = models.PositiveBigIntegerField(default=0)
    cards_updated = models.PositiveBigIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    # Sharded merge (healthbook.cards.shards): 0 = each chunk is merged as it is read; N > 0 =
    # the file is first staged (healthbook_card_batch_row), then merged by N shard runs.
    shards = models.PositiveSmallIntegerField(default=0)
    staged_at = models.DateTimeField(null=True, blank=True, help_text="when the whole file was staged and settled")
    rows_merged = models.PositiveBigIntegerField(default=0, help_text="staged rows merged by the shard runs")
    read_by_one_reader = models.BooleanField(
        default=False, help_text="the readers side by side found a record spanning lines: one reader reads the file"
    )

    lease = models.UUIDField(null=True, blank=True, help_text="token of the run that holds the batch")
    worker = models.CharField(max_length=200, blank=True, help_text="host and process of the holding run")
    runs = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_started_rows = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "healthbook_card_batch"
        ordering = ["-created_at"]
        verbose_name = _("card batch")
        verbose_name_plural = _("card batches")
        indexes = [
            models.Index(fields=["status", "heartbeat_at"], name="card_batch_status_heartbeat"),
            models.Index(fields=["scope_province", "created_at"], name="card_batch_province"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sha256", "scope_province"], nulls_distinct=False, name="card_batch_file_per_scope"
            ),
            models.CheckConstraint(
                name="card_batch_counts_add_up",
                condition=models.Q(rows_read=models.F("rows_accepted") + models.F("rows_rejected")),
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class CardBatchProblem(models.Model):
    """One reason a row of a batch was rejected: line (header = line 1), column, value, code."""

    batch = models.ForeignKey(CardBatch, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveBigIntegerField()
    column = models.CharField(max_length=40, blank=True)
    value = models.TextField(blank=True)
    code = models.CharField(max_length=40)

    class Meta:
        db_table = "healthbook_card_batch_problem"
        ordering = ["batch", "line", "id"]
        indexes = [models.Index(fields=["batch", "line"], name="card_batch_problem_line")]

    def __str__(self) -> str:
        return f"{self.line} {self.column} {self.code}"


class CardBatchPerson(models.Model):
    """The last line of a batch that carried a person (by social insurance number).

    Lets a later chunk find that an earlier, already merged row of the same file was
    superseded, so that it is reported and counted exactly once. Deleted when the batch ends.
    """

    # db_index=False: the unique (batch, insurance number) index serves lookups by batch.
    batch = models.ForeignKey(CardBatch, on_delete=models.CASCADE, related_name="+", db_index=False)
    social_insurance_number = models.CharField(max_length=10)
    line = models.PositiveBigIntegerField()

    class Meta:
        db_table = "healthbook_card_batch_person"
        constraints = [
            models.UniqueConstraint(fields=["batch", "social_insurance_number"], name="card_batch_person_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.social_insurance_number}@{self.line}"


class CardBatchShard(models.Model):
    """One shard of a staged batch: the staged rows whose insurance number hashes to `shard`,
    merged chunk by chunk by one run at a time (lease, heartbeat), each chunk one transaction
    that also advances `last_line` and the counters here and on the batch."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    batch = models.ForeignKey(CardBatch, on_delete=models.CASCADE, related_name="shard_runs", db_index=False)
    shard = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    last_line = models.PositiveBigIntegerField(default=0, help_text="the staged rows up to this line are merged")
    # Readers side by side (healthbook.cards.reading): the shard's run first reads one byte range
    # of the file into the staging table (all shards' rows), from read_from, read_records records,
    # the first on line read_first_line; rows_read of them are staged. No range: read_done.
    read_from = models.PositiveBigIntegerField(null=True, blank=True)
    read_first_line = models.PositiveBigIntegerField(default=0)
    read_records = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveBigIntegerField(default=0)
    read_done = models.BooleanField(default=True)
    rows_staged = models.PositiveBigIntegerField(default=0)
    rows_merged = models.PositiveBigIntegerField(default=0)
    rows_refused = models.PositiveBigIntegerField(default=0)
    problem_counts = models.JSONField(default=dict, blank=True)
    chunks_done = models.PositiveIntegerField(default=0)
    lease = models.UUIDField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    runs = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "healthbook_card_batch_shard"
        constraints = [models.UniqueConstraint(fields=["batch", "shard"], name="card_batch_shard_unique")]

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.shard}"
