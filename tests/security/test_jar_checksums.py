"""Supply chain: a jar the stack would run must be the one Maven Central publishes. The KCL jars
amazon-kclpy installed and the OpenSearch node's jars are checked against Central's `.sha1` before
use; a tampered, unlisted or missing jar fails setup with a message naming it; the published
checksums are cached, so checking again downloads nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from security_support import LocalEndpoint

from pulse_devstack import jars, opensearch
from pulse_devstack.paths import CACHE_DIR

REPO = Path(__file__).resolve().parents[2]
FAKE = jars.Coordinates("org.example", "widget", "1.0")


def test_a_jar_is_checked_against_the_published_sha1_which_is_fetched_once(tmp_path):
    jar = tmp_path / FAKE.file_name
    jar.write_bytes(b"PK\x03\x04 genuine widget")
    published = hashlib.sha1(jar.read_bytes()).hexdigest()
    central = LocalEndpoint({f"{FAKE.path}.sha1": f"{published}  {FAKE.file_name}\n".encode()})  # Central
    cache = tmp_path / "published-sha1.json"
    try:
        first = jars.PublishedChecksums(cache, base_url=central.url)
        jars.verify_jars({jar: FAKE}, first, remedy="fix it")
        again = jars.PublishedChecksums(cache, base_url=central.url)
        jars.verify_jars({jar: FAKE}, again, remedy="fix it")
        assert (first.downloads, again.downloads) == (1, 0) and len(central.requests) == 1

        jar.write_bytes(b"PK\x03\x04 widget with a backdoor")
        with pytest.raises(jars.JarChecksumError, match=r"widget-1\.0\.jar: sha1 .* publishes " + published):
            jars.verify_jars({jar: FAKE}, jars.PublishedChecksums(cache, base_url=central.url), remedy="x")
        unpublished = jars.Coordinates("org.example", "phantom", "6.6.6")
        missing = r"publishes no \.sha1 for: org\.example:phantom:6\.6\.6"
        with pytest.raises(jars.JarChecksumError, match=missing):
            jars.PublishedChecksums(cache, base_url=central.url).lookup([unpublished])
    finally:
        central.close()


def _kclpy(*args: str) -> subprocess.CompletedProcess:
    """What make setup runs (scripts/setup.sh), with the published checksums make setup cached."""
    return subprocess.run(
        [sys.executable, "-m", "pulse_devstack.jars", "kclpy", "--cache-dir", str(CACHE_DIR), *args],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )


def _link_copy(source: Path, target: Path, *, tamper: str | None = None) -> None:
    """`target` mirrors `source` with symlinks (cheap), except `tamper`: a real copy, one byte changed."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.name == tamper:
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0x01
            (target / path.name).write_bytes(bytes(data))
        else:
            (target / path.name).symlink_to(path.resolve())


def test_the_installed_kcl_jars_match_and_a_second_check_downloads_nothing():
    _kclpy()  # the setup step itself (fetches what is not cached yet)
    again = _kclpy()
    assert again.returncode == 0, again.stderr
    assert "KCL jars match Maven Central's checksums (79 jars, checksums cached)" in again.stdout


def test_a_tampered_kcl_jar_fails_setup_with_a_message_naming_it(tmp_path):
    _, jars_dir = jars.kclpy_jars_dir()
    _link_copy(jars_dir, tmp_path / "jars", tamper="amazon-kinesis-client-multilang-3.1.3.jar")
    result = _kclpy("--jars-dir", str(tmp_path / "jars"))
    assert result.returncode == 1
    assert "jar checksum mismatch" in result.stderr
    assert "amazon-kinesis-client-multilang-3.1.3.jar: sha1" in result.stderr
    assert "software.amazon.kinesis:amazon-kinesis-client-multilang:3.1.3" in result.stderr
    assert "pip install --no-cache-dir --force-reinstall" in result.stderr


def test_a_kcl_jar_nobody_listed_is_refused(tmp_path):
    _, jars_dir = jars.kclpy_jars_dir()
    _link_copy(jars_dir, tmp_path / "jars")
    (tmp_path / "jars" / "log4j-core-2.14.1.jar").write_bytes(b"PK\x03\x04")
    result = _kclpy("--jars-dir", str(tmp_path / "jars"))
    assert result.returncode == 1
    assert "not listed (refusing to run them): log4j-core-2.14.1.jar" in result.stderr


@pytest.fixture
def opensearch_cache_copy(tmp_path, monkeypatch):
    """The OpenSearch build make setup made, mirrored under tmp_path (symlinks), its CDS step off."""
    built = CACHE_DIR / "opensearch"
    if not (built / "lib" / opensearch.COORDINATES_NAME).exists():
        pytest.fail("no OpenSearch build to check: run make setup first")
    monkeypatch.setenv("PULSE_OPENSEARCH_CDS", "0")
    # Any download would fail the test: checking a built node uses the cached checksums only.
    monkeypatch.setattr(jars, "fetch_text", lambda url: pytest.fail(f"downloaded {url}"))
    shutil.copy(CACHE_DIR / jars.CACHE_NAME, tmp_path / jars.CACHE_NAME)
    copy = tmp_path / "opensearch"
    copy.mkdir()
    shutil.copy(built / opensearch.STAMP_NAME, copy / opensearch.STAMP_NAME)
    (copy / opensearch.LAUNCHER_JAR).symlink_to(built / opensearch.LAUNCHER_JAR)

    def with_lib(tamper: str | None = None) -> Path:
        _link_copy(built / "lib", copy / "lib", tamper=tamper)
        return copy

    return with_lib


def test_the_opensearch_jars_are_checked_before_each_use_without_downloads(opensearch_cache_copy):
    cache_dir = opensearch_cache_copy()
    classpath = opensearch.build(cache_dir, log=print)
    assert any(p.name.startswith("opensearch-2.") for p in classpath)


def test_a_tampered_opensearch_jar_stops_the_node_from_being_built_or_started(opensearch_cache_copy):
    listed = json.loads((CACHE_DIR / "opensearch" / "lib" / opensearch.COORDINATES_NAME).read_text())
    victim = next(name for name in listed if name.startswith("opensearch-core-"))
    cache_dir = opensearch_cache_copy(tamper=victim)
    with pytest.raises(jars.JarChecksumError, match=rf"{victim}: sha1 .* but Maven Central publishes"):
        opensearch.build(cache_dir, log=print)


def test_maven_fetches_with_strict_checksums():
    # A guard against losing the flag (running Maven here would take a minute): a download whose
    # checksum does not match must fail the build, not warn.
    source = Path(opensearch.__file__).read_text()
    assert '"-C",  # --strict-checksums' in source and "-Dmdep.useRepositoryLayout=true" in source
