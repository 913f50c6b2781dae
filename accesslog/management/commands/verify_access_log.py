"""`manage.py verify_access_log`: walk the whole hash chain and hold it against every checkpoint
kept outside the database; print OK or the first broken entry.

The checkpoints are read back from SSKDT_ACCESS_LOG_CHECKPOINT (a file, or the URL of the
service that keeps them) or from `--checkpoints` (a file, e.g. an export of a log collector's
copy). Exit status 1 when the chain is broken, when a checkpoint fails authentication (someone
without the key wrote it) or when the checkpoints cannot be read.

`--write-checkpoint` seals the verified head as a new checkpoint. `--rebase` is for after a
point-in-time restore (README, "Backups"): the restored chain is verified on its own and a
checkpoint marked `rebase` is written, which supersedes the earlier checkpoints that name
entries lost with the restore; record the restore in the incident report.
"""

from django.core.management.base import BaseCommand, CommandError

from accesslog.chain import chain_verify
from accesslog.checkpoints import Checkpoints, CheckpointSinkError, checkpoint_write, checkpoints_read


class Command(BaseCommand):
    help = "Verify the hash chain of the access log against the checkpoints kept outside the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--checkpoints",
            "--checkpoint",
            dest="checkpoints",
            help="file or URL of the checkpoints (default: SSKDT_ACCESS_LOG_CHECKPOINT)",
        )
        parser.add_argument(
            "--write-checkpoint", action="store_true", help="after a successful check, seal the head as a checkpoint"
        )
        parser.add_argument(
            "--no-checkpoint", action="store_true", help="verify the chain alone (the tail deletion goes unseen)"
        )
        parser.add_argument(
            "--rebase",
            action="store_true",
            help="after a restore: verify the chain alone, then write a checkpoint superseding later ones",
        )

    def handle(self, *args, checkpoints, write_checkpoint, no_checkpoint, rebase, **options):
        held = Checkpoints()
        if not (no_checkpoint or rebase):
            try:
                held = checkpoints_read(checkpoints)
            except CheckpointSinkError as exc:
                raise CommandError(f"the checkpoints cannot be read: {exc}", returncode=1) from None
            self.stdout.write(f"checkpoints: {held.summary()}")
            newest = held.newest or max(held.legacy, key=lambda cp: cp.seq, default=None)
            if newest is not None:
                self.stdout.write(f"checkpoint: seq {newest.seq} hash {newest.row_hash} ({newest.written_at})")
            else:
                self.stdout.write("no checkpoint yet: the deletion of the newest entries cannot be seen")
        result = chain_verify(checkpoints=held.binding)
        self.stdout.write(result.line())
        if not result.ok:
            raise CommandError("access log chain is broken", returncode=1)
        if held.forged:
            raise CommandError(
                f"{len(held.forged)} checkpoint(s) failed authentication: the checkpoint store was written "
                "by someone without the key",
                returncode=1,
            )
        if write_checkpoint or rebase:
            try:
                cp = checkpoint_write(result, checkpoints, rebase=rebase)
            except CheckpointSinkError as exc:
                raise CommandError(f"the checkpoint could not be written: {exc}", returncode=1) from None
            self.stdout.write(f"checkpoint written: seq {cp.seq}" + (" (rebase)" if rebase else ""))
