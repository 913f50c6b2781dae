"""`manage.py accesslog_partitions`: create the access log's monthly partitions ahead, as the
owner role (DATABASE_OWNER_URL), and report their state (accesslog/partitions.py).

`--ahead N` months after the current one (default SSKDT_ACCESS_LOG_PARTITIONS_AHEAD); `--check`
creates nothing and only reports. Exit status 1 when entries sit in the DEFAULT partition or
fewer months than asked are ready.
"""

from django.core.management.base import BaseCommand, CommandError

from accesslog.partitions import partitions_ensure


class Command(BaseCommand):
    help = "Create the access log's monthly partitions ahead (as the owner role) and report their state."

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=None, help="months after the current one")
        parser.add_argument("--check", action="store_true", help="create nothing, only report")

    def handle(self, *args, ahead=None, check=False, **options):
        state = partitions_ensure(ahead, create=not check)
        self.stdout.write(state.line())
        if not state.ok:
            raise CommandError("the access log's partitions need attention (see above)")
