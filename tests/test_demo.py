"""The demo that scripts/run starts: DEBUG stays off, so visitors see the product's own error pages; the demo data is
loaded because of HELPDESK_DEMO, never because of DJANGO_DEBUG; a fresh clone needs no secret key of its own."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.test_settings import ROOT, python_in
from tickets.models import Ticket

PRINT_DEMO_SETTINGS = (
    "import json, helpdesk.settings as s; print(json.dumps({'debug': s.DEBUG, 'demo': s.HELPDESK_DEMO, "
    "'secure_cookies': s.SESSION_COOKIE_SECURE, 'key': s.SECRET_KEY, 'public_url': s.HELPDESK_PUBLIC_URL}))"
)


def demo_environment(checkout: Path, **preset: str) -> dict[str, str]:
    """The variables scripts/run's `demo_environment` exports in a checkout, from an environment of only `preset`."""
    (checkout / "scripts").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scripts" / "_common.sh", checkout / "scripts" / "_common.sh")
    result = subprocess.run(
        ["bash", "-c", 'source scripts/_common.sh && demo_environment "$1" && env -0', "run", "http://127.0.0.1:8123"],
        cwd=checkout,
        env={"PATH": os.environ.get("PATH", ""), **preset},
        capture_output=True,
        timeout=30,
        check=True,
    )
    pairs = (item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    return {name: value for name, value in pairs if name not in {"PWD", "SHLVL", "_", "OLDPWD"}}


def test_the_demo_runs_without_debug_with_demo_data_and_a_secret_key_of_its_own(tmp_path):
    env = demo_environment(tmp_path)
    key_file = tmp_path / ".secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert env["DJANGO_SECRET_KEY"] == key_file.read_text() and len(env["DJANGO_SECRET_KEY"]) >= 40
    assert demo_environment(tmp_path)["DJANGO_SECRET_KEY"] == env["DJANGO_SECRET_KEY"]

    result = python_in(["-c", PRINT_DEMO_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert settings["debug"] is False
    assert settings["demo"] is True
    assert settings["secure_cookies"] is False
    assert settings["public_url"] == "http://127.0.0.1:8123"


def test_the_demo_keeps_what_the_operator_set(tmp_path):
    env = demo_environment(tmp_path, DJANGO_SECRET_KEY="mine", HELPDESK_DEMO="0", DJANGO_DEBUG="1")
    assert (env["DJANGO_SECRET_KEY"], env["HELPDESK_DEMO"], env["DJANGO_DEBUG"]) == ("mine", "0", "1")
    assert not (tmp_path / ".secret_key").exists()


def test_git_ignores_the_generated_secret_key():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".secret_key"], cwd=ROOT, timeout=30, check=False)
    assert ignored.returncode == 0


@pytest.mark.django_db
def test_debug_alone_does_not_load_the_demo_accounts(settings):
    settings.DEBUG = True
    settings.HELPDESK_DEMO = False
    with pytest.raises(CommandError, match="HELPDESK_DEMO off"):
        call_command("seed_demo")
    assert not Ticket.objects.exists()
