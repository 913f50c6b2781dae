"""Reprocess submissions after a code-list or registry fix.

    python manage.py reprocess_submissions --status rejected [--facility 01001] [--now]
    python manage.py reprocess_submissions --id <public id> [--id …]

Each selected rejected submission goes back to "received" and is queued (or, with --now,
processed in this process).
"""

from django.core.management.base import BaseCommand, CommandError

from healthbook.intake.processing import submission_process
from healthbook.intake.services import submission_reprocess
from healthbook.models import Submission


class Command(BaseCommand):
    help = "Send rejected submissions through processing again."

    def add_arguments(self, parser):
        parser.add_argument("--id", action="append", default=[], help="public id (repeatable)")
        parser.add_argument("--status", choices=["rejected"], help="every submission with this status")
        parser.add_argument("--facility", help="limit to one facility code")
        parser.add_argument("--now", action="store_true", help="process here instead of queueing")

    def handle(self, *args, **opts):
        if not opts["id"] and not opts["status"]:
            raise CommandError("give --id or --status rejected")
        qs = Submission.objects.filter(status=Submission.Status.REJECTED)
        if opts["id"]:
            qs = qs.filter(public_id__in=opts["id"])
        if opts["facility"]:
            qs = qs.filter(facility__code=opts["facility"])
        done = {}
        for sub in qs.order_by("received_at").iterator(chunk_size=500):
            submission_reprocess(submission=sub, acting_user=None)
            if opts["now"]:
                status = submission_process(submission_id=sub.pk) or "queued"
            else:
                status = "queued"
            done[status] = done.get(status, 0) + 1
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in sorted(done.items())) or "nothing to reprocess")
