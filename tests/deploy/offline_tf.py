"""Shared by tests/deploy and tests/security: the stand-in provider (deploy/offline/standin.py),
built once per session, and one mocked plan per environment, run once per session.

dev runs deploy/offline/tftest plus the must-fail cases of tests/deploy/tftest (one file each:
terraform test skips the runs of a file after one fails); prod runs the former only (the
must-fail cases do not depend on the environment).
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MUST_FAIL = Path(__file__).resolve().parent / "tftest"


def _load_standin():
    name = "pulse_tf_standin"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "deploy" / "offline" / "standin.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


standin_module = _load_standin()


def tools_missing() -> str | None:
    if shutil.which("terraform") is None and shutil.which("tofu") is None:
        return "no terraform binary"
    if (
        shutil.which("go") is None
        and not (standin_module.PROVIDER_DIR / standin_module.PROVIDER_BINARY).exists()
    ):
        return "Go is needed once to build the stand-in provider"
    return None


@functools.cache
def standin():
    return standin_module.ensure()


@functools.cache
def mock_plan(env: str):
    work = Path(tempfile.mkdtemp(prefix=f"pulse-tf-plan-{env}-"))
    atexit.register(shutil.rmtree, work, True)
    return standin_module.mock_plan(env, standin(), work, extra_tests=MUST_FAIL if env == "dev" else None)
