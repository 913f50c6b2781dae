"""`manage.py verify_access_log`: walk the hash chain, print OK or the first broken entry.

The newest verified head (seq and hash) is printed so it can be copied into a report kept
elsewhere; `--write-checkpoint` also stores it in the checkpoint file, which later runs
compare against (the deletion of the newest entries is otherwise invisible in the chain).
Exit status 1 when the chain is broken.
"""

from django.core.management.base import BaseCommand, CommandError

from accesslog.chain import chain_verify, checkpoint_read, checkpoint_write


class Command(BaseCommand):
    help = "Verify the hash chain of the access log (prints OK or the first broken entry)."

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", help="checkpoint file (default: SSKDT_ACCESS_LOG_CHECKPOINT)")
        parser.add_argument(
            "--write-checkpoint",
            action="store_true",
            help="after a successful check, store the head in the checkpoint file",
        )
        parser.add_argument("--no-checkpoint", action="store_true", help="ignore the checkpoint file")

    def handle(self, *args, **options):
        checkpoint = None if options["no_checkpoint"] else checkpoint_read(options["checkpoint"])
        result = chain_verify(checkpoint=checkpoint)
        if checkpoint is not None:
            self.stdout.write(f"checkpoint: seq {checkpoint.seq} hash {checkpoint.row_hash} ({checkpoint.written_at})")
        if not result.ok:
            self.stdout.write(result.line())
            raise CommandError("access log chain is broken", returncode=1)
        self.stdout.write(result.line())
        if options["write_checkpoint"]:
            checkpoint_write(result, options["checkpoint"])
            self.stdout.write(f"checkpoint written: seq {result.head_seq}")
