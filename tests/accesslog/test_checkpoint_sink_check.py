"""sskdt.W021: a file checkpoint sink with a broker server (workers possibly on several hosts)."""

from accesslog.checks import check_checkpoint_sink_reaches_every_host as check


def test_a_file_sink_with_a_broker_server_is_flagged(settings, tmp_path):
    settings.CELERY_BROKER_URL = "redis://10.0.0.5:6379/0"
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "checkpoints.jsonl")
    assert [w.id for w in check()] == ["sskdt.W021"]


def test_a_checkpoint_service_or_one_machine_is_not(settings, tmp_path):
    settings.CELERY_BROKER_URL = "redis://10.0.0.5:6379/0"
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = "https://checkpoints.example.vn/sskdt"
    assert check() == []
    settings.CELERY_BROKER_URL = "filesystem://"  # make run: one machine, no broker server
    settings.SSKDT_ACCESS_LOG_CHECKPOINT = str(tmp_path / "checkpoints.jsonl")
    assert check() == []
