import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "prod-like-" + "x9Q" * 20,
    "DJANGO_ALLOWED_HOSTS": "sskdt.example.vn",
    # Issue 15: the access-log key and the two database roles are part of a production setup.
    "SSKDT_ACCESS_LOG_KEY": "prod-like-access-log-" + "k7Z" * 12,
    "DATABASE_URL": "postgres://sskdt_app@127.0.0.1:5432/sskdt",
    "DATABASE_OWNER_URL": "postgres://sskdt_owner@127.0.0.1:5432/sskdt",
    # Issue 21: checkpoints go to a service every worker host reaches (sskdt.W021).
    "SSKDT_ACCESS_LOG_CHECKPOINT": "https://checkpoints.example.vn/sskdt",
}


def _run(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SSKDT_", "DATABASE_"))}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_prints_no_warning_under_production_environment():
    result = _run(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    env = dict(PRODUCTION_ENV)
    del env["DJANGO_SECRET_KEY"]
    result = _run(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_refuses_development_secret_key_when_debug_is_off():
    result = _run({**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "dev-insecure-only-for-local-development"}, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_bad_boolean_in_environment_fails_loudly():
    result = _run({**PRODUCTION_ENV, "DJANGO_DEBUG": "maybe"}, "check")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_check_deploy_fails_with_one_database_role():
    """Issue 15, T6: without DATABASE_OWNER_URL the application role owns the access log."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_OWNER_URL"}
    result = _run(env, "check", "--deploy")
    assert result.returncode != 0 and "sskdt.E001" in result.stderr + result.stdout
    same = {**PRODUCTION_ENV, "DATABASE_OWNER_URL": PRODUCTION_ENV["DATABASE_URL"]}
    result = _run(same, "check", "--deploy")
    assert result.returncode != 0 and "same role" in result.stderr + result.stdout


def test_development_start_says_one_role_owns_everything():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("DATABASE_OWNER_URL", "DJANGO_SECRET_KEY")}
    result = _run({**env, "DJANGO_DEBUG": "1"}, "check")
    assert result.returncode == 0 and "sskdt.W001" in result.stderr + result.stdout


def test_refuses_to_start_without_the_access_log_key_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SSKDT_ACCESS_LOG_KEY"}
    result = _run(env, "check")
    assert result.returncode != 0 and "SSKDT_ACCESS_LOG_KEY" in result.stderr
    result = _run({**PRODUCTION_ENV, "SSKDT_ACCESS_LOG_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}, "check")
    assert result.returncode != 0 and "SSKDT_ACCESS_LOG_KEY" in result.stderr


def test_check_deploy_fails_when_the_owner_names_another_database():
    other = {**PRODUCTION_ENV, "DATABASE_OWNER_URL": "postgres://sskdt_owner@127.0.0.1:5432/other"}
    result = _run(other, "check", "--deploy")
    assert result.returncode != 0 and "sskdt.E002" in result.stderr + result.stdout
