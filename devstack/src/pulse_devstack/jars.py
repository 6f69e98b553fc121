"""Every jar the local stack runs is checked against the SHA-1 Maven Central publishes next to it.

Two sets of jars run here: the KCL MultiLangDaemon's, which amazon-kclpy's setup downloaded from
Maven Central without any check while pip built it, and the OpenSearch node's, which Maven fetches
(`mvn -C`: strict checksums on download; but a jar already in ~/.m2 is never checked again). Before
either is used, each jar's SHA-1 must equal the `<jar>.sha1` Maven Central publishes for its
coordinates; a jar that differs, a jar nobody listed, or a listed jar missing fails with a message
naming it.

The published checksums are cached by URL in `<cache>/published-sha1.json`: the second check of the
same jars downloads nothing (each jar is still hashed: a jar changed since is caught). The KCL jars'
coordinates come from `devstack/kcl/amazon-kclpy.jars` (amazon-kclpy's own pom.xml), never from the
jars themselves.

`python -m pulse_devstack.jars kclpy` checks the installed amazon-kclpy (what `make setup` runs).
Standard library only, like opensearch.py.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pulse_devstack.paths import CACHE_DIR

CENTRAL = "https://repo1.maven.org/maven2"
KCLPY_JARS_LIST = Path(__file__).resolve().parents[2] / "kcl" / "amazon-kclpy.jars"
CACHE_NAME = "published-sha1.json"
_SHA1 = re.compile(r"\b([0-9a-f]{40})\b")


class JarChecksumError(RuntimeError):
    """A jar is not what Maven Central published (or cannot be checked): do not run it."""


@dataclass(frozen=True, order=True)
class Coordinates:
    group: str
    artifact: str
    version: str
    classifier: str = ""

    @classmethod
    def parse(cls, text: str) -> Coordinates:
        """`group:artifact:version[:classifier]`."""
        parts = text.strip().split(":")
        if len(parts) not in (3, 4) or not all(parts[:3]):
            raise ValueError(f"not group:artifact:version[:classifier]: {text!r}")
        return cls(*parts)

    def __str__(self) -> str:
        return ":".join(p for p in (self.group, self.artifact, self.version, self.classifier) if p)

    @property
    def file_name(self) -> str:
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.jar"

    @property
    def path(self) -> str:
        """The jar's path in a Maven repository."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file_name}"


def central_url() -> str:
    return os.environ.get("PULSE_MAVEN_CENTRAL_URL", CENTRAL).rstrip("/")


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - the checksum Maven Central publishes, not a signature
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_text(url: str, timeout_s: float = 30.0) -> str | None:
    """The body at `url`; None when the repository has no such file (404)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.read(4096).decode("ascii", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class PublishedChecksums:
    """Maven Central's `.sha1` per jar URL, fetched once and kept in a small JSON file."""

    def __init__(
        self,
        cache_file: Path,
        *,
        base_url: str | None = None,
        fetch: Callable[[str], str | None] | None = None,
    ) -> None:
        self.cache_file = Path(cache_file)
        self.base_url = (base_url or central_url()).rstrip("/")
        self.fetch = fetch or (lambda url: fetch_text(url))
        self.downloads = 0

    def url(self, coords: Coordinates) -> str:
        return f"{self.base_url}/{coords.path}"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.cache_file.read_text())
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}

    def lookup(self, coords: Iterable[Coordinates]) -> dict[Coordinates, str]:
        """The published SHA-1 of each jar; JarChecksumError if one cannot be had."""
        wanted = sorted(set(coords))
        known = self._load()
        missing = [c for c in wanted if self.url(c) not in known]
        if missing:
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(self._fetch_one, missing))
            unpublished = [str(c) for c, sha in zip(missing, answers, strict=True) if sha is None]
            if unpublished:
                raise JarChecksumError(
                    f"Maven Central ({self.base_url}) publishes no .sha1 for: " + ", ".join(unpublished)
                )
            with _locked(self.cache_file):
                fetched = {self.url(c): sha for c, sha in zip(missing, answers, strict=True)}
                known = {**self._load(), **fetched}
                tmp = self.cache_file.with_name(self.cache_file.name + f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(known, indent=0, sort_keys=True) + "\n")
                tmp.replace(self.cache_file)
        return {c: known[self.url(c)] for c in wanted}

    def _fetch_one(self, coords: Coordinates) -> str | None:
        url = self.url(coords) + ".sha1"
        try:
            body = self.fetch(url)
        except (OSError, urllib.error.URLError) as exc:
            raise JarChecksumError(f"cannot read {url} to check {coords.file_name}: {exc}") from exc
        self.downloads += 1
        if body is None:
            return None
        match = _SHA1.search(body.lower())
        if match is None:
            raise JarChecksumError(f"{url} holds no SHA-1 ({body[:80]!r})")
        return match.group(1)


def verify_jars(jars: dict[Path, Coordinates], checksums: PublishedChecksums, *, remedy: str) -> None:
    """Each jar's SHA-1 equals the one published for its coordinates, else JarChecksumError
    (whose message ends with `remedy`: how to get genuine jars back)."""
    published = checksums.lookup(jars.values())
    bad = []
    for path, coords in sorted(jars.items()):
        actual = sha1_of(path)
        if actual != published[coords]:
            bad.append(
                f"  {path}: sha1 {actual}, but Maven Central publishes {published[coords]} for {coords} "
                f"({checksums.url(coords)}.sha1)"
            )
    if bad:
        raise JarChecksumError(
            "jar checksum mismatch: these jars are not the ones Maven Central publishes; refusing to use "
            "them:\n" + "\n".join(bad) + f"\n{remedy}"
        )


# ------------------------------------------------------------------------------------ amazon-kclpy


def kclpy_list(path: Path = KCLPY_JARS_LIST) -> tuple[str, list[Coordinates]]:
    """(amazon-kclpy version, the coordinates of every jar it ships) from the list file."""
    version = ""
    coords = []
    for line in path.read_text().splitlines():
        text = line.strip()
        if text.startswith("# amazon-kclpy=="):
            version = text.split("==", 1)[1].strip()
        elif text and not text.startswith("#"):
            coords.append(Coordinates.parse(text))
    if not version or not coords:
        raise JarChecksumError(f"{path} names no amazon-kclpy version or no jars")
    return version, coords


def kclpy_jars_dir() -> tuple[str, Path]:
    """The installed amazon-kclpy's version and jars directory."""
    from importlib import metadata

    import amazon_kclpy

    return metadata.version("amazon-kclpy"), Path(amazon_kclpy.__file__).resolve().parent / "jars"


def verify_kclpy(
    jars_dir: Path | None = None,
    *,
    installed_version: str | None = None,
    cache_dir: Path = CACHE_DIR,
    base_url: str | None = None,
    list_path: Path = KCLPY_JARS_LIST,
) -> PublishedChecksums:
    """Check the KCL jars amazon-kclpy installed; returns the checksum source (for its counters)."""
    listed_version, listed = kclpy_list(list_path)
    if jars_dir is None or installed_version is None:
        found_version, found_dir = kclpy_jars_dir()
        jars_dir = jars_dir or found_dir
        installed_version = installed_version or found_version
    if installed_version != listed_version:
        raise JarChecksumError(
            f"amazon-kclpy {installed_version} is installed but {list_path} lists the jars of "
            f"{listed_version}: regenerate the list from that version's pom.xml"
        )
    by_name = {c.file_name: c for c in listed}
    present = {p.name: p for p in Path(jars_dir).glob("*.jar")}
    extra = sorted(set(present) - set(by_name))
    missing = sorted(set(by_name) - set(present))
    if extra or missing:
        raise JarChecksumError(
            f"the KCL jars in {jars_dir} are not the ones amazon-kclpy {listed_version} ships:"
            + (f"\n  not listed (refusing to run them): {', '.join(extra)}" if extra else "")
            + (f"\n  missing: {', '.join(missing)}" if missing else "")
        )
    checksums = PublishedChecksums(cache_dir / CACHE_NAME, base_url=base_url)
    remedy = (
        "Reinstall amazon-kclpy from PyPI without pip's wheel cache, e.g. `.venv/bin/pip install "
        f"--no-cache-dir --force-reinstall --no-deps amazon-kclpy=={listed_version}`, then run make setup."
    )
    verify_jars({present[name]: coords for name, coords in by_name.items()}, checksums, remedy=remedy)
    return checksums


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pulse_devstack.jars",
        description="Check jars against the SHA-1 checksums Maven Central publishes (see the module doc).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    kcl = sub.add_parser("kclpy", help="the KCL MultiLangDaemon jars amazon-kclpy installed")
    kcl.add_argument("--jars-dir", type=Path, help="check this directory instead of the installed one")
    kcl.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="where published checksums are kept")
    args = parser.parse_args(argv)
    try:
        checksums = verify_kclpy(args.jars_dir, cache_dir=args.cache_dir)
    except JarChecksumError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    fetched = f", {checksums.downloads} checksums fetched" if checksums.downloads else ", checksums cached"
    print(f"setup: KCL jars match Maven Central's checksums ({len(kclpy_list()[1])} jars{fetched})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
