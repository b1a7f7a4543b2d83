"""Screenshots of every open page of a browser test that fails, kept as test artifacts in
`$HELPDESK_TEST_ARTIFACTS` (default: `test-artifacts/` at the project root), one folder per test."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings


def artifacts_dir(nodeid: str) -> Path:
    root = Path(os.environ.get("HELPDESK_TEST_ARTIFACTS") or Path(settings.BASE_DIR) / "test-artifacts")
    return root / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")


# Whether the test's own call failed, for fixtures that save pages before the test closes them.
call_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[call_failed] = report.failed
    if report.when == "call" and report.failed:
        browser = item.funcargs.get("browser")
        if browser is not None:
            folder = artifacts_dir(item.nodeid)
            folder.mkdir(parents=True, exist_ok=True)
            for context_index, context in enumerate(browser.contexts):
                for page_index, page in enumerate(context.pages):
                    path = folder / f"context{context_index}-page{page_index}.png"
                    try:
                        page.screenshot(path=str(path), full_page=True)
                    except Exception as error:  # noqa: BLE001 (a closed page must not hide the test's own failure)
                        path.with_suffix(".txt").write_text(f"no screenshot: {error}\n")
            report.sections.append(("browser artifacts", f"screenshots in {folder}"))
    return report
