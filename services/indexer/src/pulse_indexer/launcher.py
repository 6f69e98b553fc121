"""The indexer's KCL launcher: build it (once, cached) and say how to run it.

The launcher (`services/indexer/kcl/`, built by its `build.sh`) is a small Java main class that runs
the KCL 3 MultiLangDaemon with the DynamoDB Streams Kinesis Adapter's scheduler. Its classpath is
the launcher jar, the adapter jar (fetched from Maven Central with strict checksums and checked
against a pinned SHA-256) and the KCL jars amazon-kclpy ships.

Where the built launcher lives: PULSE_INDEXER_LAUNCHER_DIR (the Docker image sets
/opt/pulse-indexer-kcl), else `.local/cache/indexer-kcl` in the repository (`make setup` builds it).

    python -m pulse_indexer.launcher build [--out DIR]    # idempotent: nothing runs when up to date

Standard library only (plus amazon-kclpy to find the KCL jars).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from pulse_common.kcl import DaemonError, kclpy_jars_dir

MAIN_CLASS = "dev.pulse.indexer.kcl.StreamsMultiLangDaemon"
LAUNCHER_JAR = "pulse-indexer-kcl.jar"
STAMP = "build.stamp"


def sources_dir() -> Path:
    """services/indexer/kcl (the package is installed editable in the repository)."""
    configured = os.environ.get("PULSE_INDEXER_LAUNCHER_SOURCES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "kcl"


def default_dir() -> Path:
    configured = os.environ.get("PULSE_INDEXER_LAUNCHER_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "services" / "indexer" / "kcl" / "build.sh").exists():
            return parent / ".local" / "cache" / "indexer-kcl"
    raise DaemonError("the indexer's KCL launcher location is unknown: set PULSE_INDEXER_LAUNCHER_DIR")


def _digest(sources: Path, jars: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in sources.rglob("*") if p.is_file() and "target" not in p.parts):
        h.update(str(path.relative_to(sources)).encode() + b"\0" + path.read_bytes() + b"\0")
    for jar in sorted(jars.glob("*.jar")):
        h.update(jar.name.encode() + b"\0")
    return h.hexdigest()


def is_built(out: Path) -> bool:
    return (out / LAUNCHER_JAR).exists() and any((out / "lib").glob("*.jar"))


def build(out: Path | None = None, *, log=print) -> Path:
    """Build the launcher into `out` unless its stamp says it is up to date; return `out`."""
    out = out or default_dir()
    sources, jars = sources_dir(), kclpy_jars_dir()
    digest = _digest(sources, jars)
    stamp = out / STAMP
    if is_built(out) and stamp.exists() and json.loads(stamp.read_text()).get("digest") == digest:
        return out
    log(f"indexer: building the KCL launcher (DynamoDB Streams Kinesis Adapter) into {out}")
    done = subprocess.run(
        ["bash", str(sources / "build.sh"), str(jars), str(out)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DaemonError(f"building the indexer's KCL launcher failed:\n{done.stdout}{done.stderr}")
    stamp.write_text(json.dumps({"digest": digest}) + "\n")
    return out


def classpath(out: Path | None = None) -> str:
    """The launcher's classpath, or DaemonError saying how to build it."""
    out = out or default_dir()
    if not is_built(out):
        raise DaemonError(
            f"the indexer's KCL launcher is not built in {out}: run `make setup` "
            "(or `python -m pulse_indexer.launcher build`)"
        )
    return os.pathsep.join([str(out / LAUNCHER_JAR), f"{out / 'lib'}/*", f"{kclpy_jars_dir()}/*"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pulse_indexer.launcher", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build the launcher (skipped when up to date)")
    p_build.add_argument("--out", type=Path, default=None, help="output directory (default: see module doc)")
    args = parser.parse_args(argv)
    try:
        out = build(args.out)
    except DaemonError as exc:
        print(f"launcher: {exc}", file=sys.stderr)
        return 1
    print(f"indexer: KCL launcher ready in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
