"""Fixtures for the deploy checks: the separate tools venv (checkov, hadolint)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_VENV = REPO_ROOT / ".local" / "tools-venv"


@pytest.fixture(scope="session")
def tools_bin() -> Path:
    """bin/ of .local/tools-venv, created on first use by deploy/scripts/ensure-tools.sh.

    checkov's pins conflict with the app's requirements.lock, hence its own venv. Creating it
    needs PyPI once (about a minute); afterwards the script returns at once.
    """
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "scripts" / "ensure-tools.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"deploy/scripts/ensure-tools.sh failed:\n{result.stderr[-3000:]}")
    return TOOLS_VENV / "bin"
