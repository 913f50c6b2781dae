"""System checks of the access log's setup (registered by AccesslogConfig.ready)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_checkpoint_sink_reaches_every_host(app_configs=None, **kwargs):
    """With a broker server the checkpoint job runs on whichever worker host takes it and reads
    the previous checkpoint there: a file sink would be one host's file, so a checkpoint written on
    one host is not seen by the next run on another (issue 21, point 4; docs/scale.md §6)."""
    where = str(settings.SSKDT_ACCESS_LOG_CHECKPOINT)
    if where.startswith(("http://", "https://")) or str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        return []
    return [
        checks.Warning(
            "SSKDT_ACCESS_LOG_CHECKPOINT is a file while tasks go through a broker: with workers on several "
            "hosts each would keep its own checkpoints.",
            hint="Point it at the http(s) checkpoint service (README, 'Production'), or silence sskdt.W021 if "
            "the file is on storage every worker host mounts.",
            id="sskdt.W021",
        )
    ]
