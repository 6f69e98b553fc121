"""A real single-node OpenSearch 2.19 for the local stack, built from Maven Central jars.

No tarball is needed: ``build()`` lets Maven copy the OpenSearch server jar and the module plugins
(transport-netty4, analysis-common, lang-painless, mapper-extras) into a cache directory and compiles
the small launcher ``devstack/opensearch/src/main/java/dev/pulse/opensearch/PulseNode.java`` with
javac, then trains a class-data sharing archive with one start of the node (halves later start-up
CPU; ``PULSE_OPENSEARCH_CDS=0`` skips it). ``start_node()`` runs the node in its own process group,
``wait_healthy()`` waits for yellow, ``stop_node()`` stops it (SIGTERM closes the node cleanly,
SIGKILL after a timeout). See devstack/opensearch/README.md for measurements.

Standard library only: this module must import without any third-party package.

Extra JVM options can be given in ``PULSE_OPENSEARCH_JAVA_OPTS`` (whitespace separated, appended
last, so they win), e.g. ``-XX:TieredStopAtLevel=4`` for a node that runs long benchmarks.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from pulse_common.kcl import group_alive
from pulse_devstack import jars

PROJECT_DIR = Path(__file__).resolve().parents[2] / "opensearch"
POM = PROJECT_DIR / "pom.xml"
SOURCES = PROJECT_DIR / "src" / "main"
MAIN_CLASS = "dev.pulse.opensearch.PulseNode"
MIN_JAVA = 17
STAMP_NAME = "build.stamp"
STAMP_FORMAT = 2
LAUNCHER_JAR = "pulse-node.jar"
COORDINATES_NAME = "coordinates.json"  # lib/: each jar's Maven coordinates, for the checksum check
_REMEDY = (
    "Delete each listed jar from ~/.m2/repository (same path; Maven does not check a jar it already "
    "has) and .local/cache/opensearch/lib, then run make setup again."
)
CDS_DIR = "cds"

# Startup-oriented JVM flags for a dev/CI node on a small shared box (2 cores). Measured on the
# 2-core box: C1 only (TieredStopAtLevel=1) halves the CPU to healthy (~4.5 s instead of ~10 s)
# and is faster for test-sized workloads too; serial GC needs fewer threads than G1 at the same
# speed. The rest mirrors OpenSearch's own jvm.options where it matters without a distribution.
JVM_FLAGS = (
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Xshare:auto",
    "-Xss1m",
    "-XX:-OmitStackTraceInFastThrow",
    "-Djava.awt.headless=true",
    "-Dfile.encoding=UTF-8",
    "-Djna.nosys=true",
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.noKeySetOptimization=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Dlog4j.shutdownHookEnabled=false",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j2.formatMsgNoLookups=true",
)


# The node is always on loopback: never send its requests through an http_proxy from the environment.
_LOCAL_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------------------------- build


def build(cache_dir: Path, *, log: Callable[[str], object] = print) -> list[Path]:
    """Fetch the OpenSearch jars and compile the launcher into cache_dir; return the classpath.

    Idempotent: when ``cache_dir/build.stamp`` matches the current pom.xml and launcher sources (and
    every jar it lists still exists) and the class-data sharing archive for this JDK exists (or
    failed before), nothing runs and nothing is downloaded. Maven runs only when pom.xml changed.
    Safe to call from several processes at once (file locks in cache_dir).
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    digest = _source_digest()
    classpath = _classpath_from_stamp(cache_dir, digest)
    if classpath is not None and _cds_settled(cache_dir, _java_bin_or_none()):
        _verify_lib(cache_dir)
        return classpath

    java = _java_bin(None)
    _check_java(java)
    javac = _tool_next_to(java, "javac")
    pom_digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if not _lib_is_current(cache_dir, pom_digest) and shutil.which("mvn") is None:
        raise RuntimeError(
            "Maven is required to fetch the OpenSearch jars for the local node (mvn not found on PATH). "
            "Install it, e.g. `apt-get install maven`, then retry."
        )

    with _locked(cache_dir / ".build.lock"):
        # Someone else may have built while we waited for the lock.
        classpath = _classpath_from_stamp(cache_dir, digest)
        if classpath is not None:
            _ensure_cds(cache_dir, classpath, java, log)
            return classpath
        started = time.monotonic()
        lib_dir = cache_dir / "lib"
        # Only a pom.xml change re-fetches the jars: a launcher change leaves lib/ (and the jars
        # that running nodes have open) alone.
        if _lib_is_current(cache_dir, pom_digest):
            log("opensearch: pom.xml unchanged, keeping the jars in lib/")
            _verify_lib(cache_dir)
        else:
            log(f"opensearch: fetching jars with Maven into {lib_dir} (first run downloads ~50 MB)")
            _fetch_jars(cache_dir, lib_dir, java)
        (cache_dir / STAMP_NAME).unlink(missing_ok=True)

        log("opensearch: compiling the launcher")
        tmp_classes = cache_dir / "classes.tmp"
        shutil.rmtree(tmp_classes, ignore_errors=True)
        tmp_classes.mkdir()
        sources = sorted(str(p) for p in (SOURCES / "java").rglob("*.java"))
        _run(
            [
                javac,
                "--release",
                str(MIN_JAVA),
                "-nowarn",
                "-encoding",
                "UTF-8",
                "-cp",
                str(lib_dir / "*"),
                "-d",
                str(tmp_classes),
                *sources,
            ],
            what="javac",
        )
        resources = SOURCES / "resources"
        if resources.is_dir():
            shutil.copytree(resources, tmp_classes, dirs_exist_ok=True)
        # A jar, not a classes directory: the JVM's class-data sharing archive (see _ensure_cds)
        # only accepts jars on the classpath.
        launcher_jar = cache_dir / LAUNCHER_JAR
        tmp_jar = cache_dir / (LAUNCHER_JAR + ".tmp")
        with zipfile.ZipFile(tmp_jar, "w", zipfile.ZIP_DEFLATED) as jar:
            jar.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nMain-Class: {MAIN_CLASS}\n\n")
            for path in sorted(tmp_classes.rglob("*")):
                if path.is_file():
                    jar.write(path, path.relative_to(tmp_classes).as_posix())
        tmp_jar.replace(launcher_jar)
        shutil.rmtree(tmp_classes, ignore_errors=True)
        shutil.rmtree(cache_dir / "classes", ignore_errors=True)  # left by older builds

        classpath = [launcher_jar, *sorted(lib_dir.glob("*.jar"))]
        stamp = {
            "format": STAMP_FORMAT,
            "digest": digest,
            "pom_digest": pom_digest,
            "classpath": [str(p.relative_to(cache_dir)) for p in classpath],
        }
        tmp_stamp = cache_dir / (STAMP_NAME + ".tmp")
        tmp_stamp.write_text(json.dumps(stamp, indent=1) + "\n")
        tmp_stamp.replace(cache_dir / STAMP_NAME)
        log(f"opensearch: jars and launcher ready in {time.monotonic() - started:.1f}s")
    _ensure_cds(cache_dir, classpath, java, log)
    return classpath


def _lib_is_current(cache_dir: Path, pom_digest: str) -> bool:
    """True when lib/ holds what Maven copied for this very pom.xml (so no Maven run is needed)."""
    try:
        stamp = json.loads((cache_dir / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return False
    jars = [cache_dir / p for p in stamp.get("classpath", []) if p.startswith("lib/")]
    return (
        stamp.get("pom_digest") == pom_digest
        and bool(jars)
        and all(p.exists() for p in jars)
        and (cache_dir / "lib" / COORDINATES_NAME).exists()  # older caches: fetched once more
    )


def _fetch_jars(cache_dir: Path, lib_dir: Path, java: str) -> None:
    """Maven copies the jars in repository layout (so each one's coordinates are known), with
    strict checksums on what it downloads; each is then checked against Maven Central's published
    SHA-1 (a jar Maven already had in ~/.m2 is not checked by Maven) before it joins lib/."""
    layout = cache_dir / "lib.layout.tmp"
    tmp_lib = cache_dir / "lib.tmp"
    for tmp in (layout, tmp_lib):
        shutil.rmtree(tmp, ignore_errors=True)
    _run(
        [
            shutil.which("mvn") or "mvn",
            "-q",
            "-B",
            "-C",  # --strict-checksums: a download whose checksum does not match fails the build
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={layout}",
            "-Dmdep.useRepositoryLayout=true",
            "-DincludeScope=runtime",
        ],
        what="mvn dependency:copy-dependencies",
        env=_java_env(java),
    )
    found = {path: _coordinates_in_layout(layout, path) for path in sorted(layout.rglob("*.jar"))}
    if not any(c.artifact == "opensearch" for c in found.values()):
        raise RuntimeError(f"Maven ran but {layout} holds no opensearch jar")
    jars.verify_jars(found, _published_checksums(cache_dir), remedy=_REMEDY)
    tmp_lib.mkdir()
    names: dict[str, str] = {}
    for path, coords in found.items():
        if coords.file_name in names:
            raise RuntimeError(f"two jars named {coords.file_name}: {names[coords.file_name]} and {coords}")
        names[coords.file_name] = str(coords)
        path.rename(tmp_lib / coords.file_name)
    (tmp_lib / COORDINATES_NAME).write_text(json.dumps(names, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(layout, ignore_errors=True)
    shutil.rmtree(lib_dir, ignore_errors=True)
    tmp_lib.rename(lib_dir)
    # New jar files invalidate any class-data sharing archive made from the old ones.
    for stale in (cache_dir / CDS_DIR).glob("node-*"):
        stale.unlink(missing_ok=True)


def _coordinates_in_layout(root: Path, jar: Path) -> jars.Coordinates:
    """<group as dirs>/<artifact>/<version>/<artifact>-<version>[-<classifier>].jar -> coordinates."""
    *group, artifact, version = jar.relative_to(root).parent.parts
    stem = f"{artifact}-{version}"
    if not group or not jar.name.startswith(stem) or jar.suffix != ".jar":
        raise RuntimeError(f"unexpected path in Maven's repository layout: {jar}")
    classifier = jar.name[len(stem) : -len(".jar")].lstrip("-")
    return jars.Coordinates(".".join(group), artifact, version, classifier)


def _published_checksums(cache_dir: Path) -> jars.PublishedChecksums:
    return jars.PublishedChecksums(cache_dir.parent / jars.CACHE_NAME)


def _verify_lib(cache_dir: Path) -> None:
    """The jars in lib/ are still the ones Maven Central publishes (hashing only: the published
    checksums are cached since they were fetched)."""
    lib_dir = cache_dir / "lib"
    try:
        listed = json.loads((lib_dir / COORDINATES_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise jars.JarChecksumError(f"{lib_dir / COORDINATES_NAME} is unreadable ({exc}); {_REMEDY}") from exc
    present = {p.name for p in lib_dir.glob("*.jar")}
    if present != set(listed):
        raise jars.JarChecksumError(
            f"{lib_dir} holds jars Maven did not put there or lacks some: "
            f"{sorted(present ^ set(listed))}; {_REMEDY}"
        )
    found = {lib_dir / name: jars.Coordinates.parse(coords) for name, coords in listed.items()}
    jars.verify_jars(found, _published_checksums(cache_dir), remedy=_REMEDY)


def _source_digest() -> str:
    h = hashlib.sha256()
    files = [POM, *sorted(p for p in SOURCES.rglob("*") if p.is_file())]
    for path in files:
        h.update(str(path.relative_to(PROJECT_DIR)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _classpath_from_stamp(cache_dir: Path, digest: str) -> list[Path] | None:
    try:
        stamp = json.loads((cache_dir / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("format") != STAMP_FORMAT or stamp.get("digest") != digest:
        return None
    classpath = [cache_dir / p for p in stamp.get("classpath", [])]
    if not classpath or not all(p.exists() for p in classpath):
        return None
    if not (cache_dir / "lib" / COORDINATES_NAME).exists():
        return None  # built before jars were checked: fetch and check them once
    return classpath


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(argv: list[str], *, what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}):\n  $ {shlex.join(argv)}\n" + "\n".join(output[-40:])
        )


# ---------------------------------------------------------------------------------------------- java


def _java_bin(java_home: str | None) -> str:
    home = java_home or os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
        if java_home:
            raise RuntimeError(f"Java 17+ is required: {candidate} does not exist (java_home={java_home!r})")
    found = shutil.which("java")
    if found is None:
        raise RuntimeError(
            "Java 17+ is required to run the local OpenSearch node, and `java` is not on PATH "
            "(nor in JAVA_HOME). Install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`."
        )
    return found


def _tool_next_to(java: str, tool: str) -> str:
    candidate = Path(java).resolve().parent / tool
    if candidate.exists():
        return str(candidate)
    found = shutil.which(tool)
    if found is None:
        raise RuntimeError(
            f"Java 17+ is required as a JDK (with {tool}), but only a JRE was found at {java}. "
            "Install one, e.g. `apt-get install openjdk-17-jdk-headless`."
        )
    return found


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _check_java(java: str) -> None:
    major = _java_major(java)
    if major is None or major < MIN_JAVA:
        found = "could not run it" if major is None else f"found Java {major}"
        raise RuntimeError(
            f"Java 17+ is required to run the local OpenSearch node ({java}: {found}). "
            "Install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`, or set JAVA_HOME."
        )


def _java_env(java: str) -> dict[str, str]:
    """Environment for Maven so it uses the same JDK as the node."""
    env = dict(os.environ)
    env.setdefault("JAVA_HOME", str(Path(java).resolve().parents[1]))
    return env


# --------------------------------------------------------------------------------------------- start


def _port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Same as the JVM's server socket: a port in TIME_WAIT is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def start_node(
    *,
    cache_dir: Path,
    home: Path,
    http_port: int,
    transport_port: int,
    log_path: Path,
    heap_mb: int = 768,
    java_home: str | None = None,
) -> subprocess.Popen:
    """Start the node in its own process group; stdout/stderr go to log_path (appended).

    Raises RuntimeError when the http or transport port is already in use, or the launcher has not
    been built (call build() first). Returns at once: use wait_healthy() to wait for the node.
    """
    cache_dir = Path(cache_dir)
    classpath = _classpath_from_stamp(cache_dir, _source_digest())
    if classpath is None:
        raise RuntimeError(
            f"the OpenSearch launcher is not built (or is stale) in {cache_dir}: call build() first"
        )
    java = _java_bin(java_home)
    cds_flags: list[str] = []
    archive = _cds_archive(cache_dir, java)
    if archive is not None and archive.exists():
        cds_flags = [f"-XX:SharedArchiveFile={archive}"]
    return _launch(
        java=java,
        classpath=classpath,
        home=Path(home),
        http_port=http_port,
        transport_port=transport_port,
        log_path=Path(log_path),
        heap_mb=heap_mb,
        extra_jvm_flags=cds_flags,
    )


def _launch(
    *,
    java: str,
    classpath: list[Path],
    home: Path,
    http_port: int,
    transport_port: int,
    log_path: Path,
    heap_mb: int,
    extra_jvm_flags: list[str],
) -> subprocess.Popen:
    for what, port in (("http", http_port), ("transport", transport_port)):
        if _port_in_use(port):
            raise RuntimeError(
                f"cannot start OpenSearch: {what} port 127.0.0.1:{port} is already in use "
                "(another node or stack running? stop it or choose another port)"
            )
    home.mkdir(parents=True, exist_ok=True)
    tmp_dir = home / "tmp"
    tmp_dir.mkdir(exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)

    argv = [
        java,
        # A small initial heap: with the serial collector, -Xms == -Xmx makes the JVM touch the whole
        # young generation early (~150 MB more RSS) for no speed gain on a dev node.
        f"-Xms{min(heap_mb, 128)}m",
        f"-Xmx{heap_mb}m",
        *JVM_FLAGS,
        *extra_jvm_flags,
        f"-Djava.io.tmpdir={tmp_dir}",
        f"-XX:ErrorFile={home / 'logs' / 'hs_err_pid%p.log'}",
        *shlex.split(os.environ.get("PULSE_OPENSEARCH_JAVA_OPTS", "")),
        # An explicit list, not lib/*: the class-data sharing archive is bound to the exact classpath.
        "-cp",
        os.pathsep.join(str(p) for p in classpath),
        MAIN_CLASS,
        "--home",
        str(home),
        "--http-port",
        str(http_port),
        "--transport-port",
        str(transport_port),
        "--cluster-name",
        "pulse-dev",
        "--node-name",
        "pulse-dev-node",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS")}
    cp_arg = argv.index("-cp") + 1
    shown = shlex.join(
        [*argv[:cp_arg], f"<{len(classpath)} jars in {classpath[0].parent}>", *argv[cp_arg + 1 :]]
    )
    with open(log_path, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {shown}\n".encode())
        log.flush()
        return subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=home,
            env=env,
            start_new_session=True,
        )


# ----------------------------------------------------------------------------- class-data sharing
#
# Most of the node's start-up CPU goes into loading and verifying ~15k classes. A dynamic AppCDS
# archive (JDK 13+: -XX:ArchiveClassesAtExit, then -XX:SharedArchiveFile) made by one training run
# at build time about halves start-up time and CPU. The archive is bound to the exact JDK and
# classpath (jar mtimes), so its name carries the build digest and a JDK fingerprint; a JDK upgrade
# just trains a new one on the next build(). If the JVM rejects an archive it runs without
# (-Xshare:auto). PULSE_OPENSEARCH_CDS=0 turns all of this off.


def _cds_enabled() -> bool:
    return os.environ.get("PULSE_OPENSEARCH_CDS", "1").strip().lower() not in ("0", "false", "no", "off")


def _java_bin_or_none() -> str | None:
    try:
        return _java_bin(None)
    except RuntimeError:
        return None


def _cds_archive(cache_dir: Path, java: str | None) -> Path | None:
    """Where the archive for this build and JDK lives (None when CDS is off or java is unknown)."""
    if not _cds_enabled() or java is None:
        return None
    real = Path(java).resolve()
    libjvm = real.parents[1] / "lib" / "server" / "libjvm.so"
    probe = libjvm if libjvm.exists() else real
    st = probe.stat()
    key = hashlib.sha256(f"{_source_digest()}|{probe}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    return cache_dir / CDS_DIR / f"node-{key[:16]}.jsa"


def _cds_settled(cache_dir: Path, java: str | None) -> bool:
    """True when there is nothing (more) to do: CDS off, archive present, or training failed before."""
    archive = _cds_archive(cache_dir, java)
    return archive is None or archive.exists() or archive.with_suffix(".failed").exists()


def _ensure_cds(cache_dir: Path, classpath: list[Path], java: str, log: Callable[[str], object]) -> None:
    """Train the class-data sharing archive once (about one node start); never fails the build."""
    archive = _cds_archive(cache_dir, java)
    if archive is None:
        return
    archive.parent.mkdir(parents=True, exist_ok=True)
    with _locked(archive.parent / ".train.lock"):
        if _cds_settled(cache_dir, java):
            return
        started = time.monotonic()
        log("opensearch: one training start of the node for a class-data sharing archive (faster starts)")
        try:
            _train_cds(archive, classpath, java)
        except Exception as exc:  # noqa: BLE001 - an optimisation: log it and carry on without
            archive.with_suffix(".failed").write_text(f"{exc}\n")
            log(f"opensearch: class-data sharing archive not made ({exc}); nodes start without it")
            return
        for old in archive.parent.glob("node-*.jsa"):
            if old != archive:
                old.unlink(missing_ok=True)
        log(f"opensearch: class-data sharing archive ready in {time.monotonic() - started:.1f}s")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train_cds(archive: Path, classpath: list[Path], java: str) -> None:
    work = archive.parent / "train"
    shutil.rmtree(work, ignore_errors=True)
    log_path = archive.parent / "train.log"
    log_path.unlink(missing_ok=True)
    tmp_archive = archive.with_suffix(".jsa.tmp")
    tmp_archive.unlink(missing_ok=True)
    http_port = _free_port()
    proc = _launch(
        java=java,
        classpath=classpath,
        home=work,
        http_port=http_port,
        transport_port=_free_port(),
        log_path=log_path,
        heap_mb=512,
        extra_jvm_flags=[f"-XX:ArchiveClassesAtExit={tmp_archive}"],
    )
    try:
        url = f"http://127.0.0.1:{http_port}"
        wait_healthy(url, timeout_s=180, log_path=log_path, proc=proc)
        _training_workload(url)
    finally:
        # SIGTERM: the JVM writes the archive while it exits.
        stop_node(proc.pid, timeout_s=120)
        code = proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    if not tmp_archive.exists() or tmp_archive.stat().st_size == 0:
        raise RuntimeError(f"the training JVM (exit {code}) wrote no archive; see {log_path}")
    tmp_archive.replace(archive)


def _http(method: str, url: str, body: object | None = None, ndjson: str | None = None) -> dict:
    data, ctype = None, "application/json"
    if ndjson is not None:
        data, ctype = ndjson.encode(), "application/x-ndjson"
    elif body is not None:
        data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype})
    with _LOCAL_HTTP.open(req, timeout=60) as resp:
        return json.loads(resp.read().decode() or "{}")


def _training_workload(url: str) -> None:
    """Touch the code paths Pulse uses, so their classes land in the archive too."""
    index = f"{url}/cds-training"
    _http(
        "PUT",
        index,
        {
            "settings": {
                "number_of_shards": 1,
                "number_of_replicas": 0,
                "analysis": {
                    "tokenizer": {"edge": {"type": "edge_ngram", "min_gram": 2, "max_gram": 10}},
                    "analyzer": {"ac": {"type": "custom", "tokenizer": "edge", "filter": ["lowercase"]}},
                },
            },
            "mappings": {
                "properties": {
                    "text": {"type": "text", "analyzer": "english"},
                    "title": {"type": "text", "analyzer": "ac", "search_analyzer": "standard"},
                    "brand": {"type": "keyword"},
                    "created_at": {"type": "date"},
                    "score": {"type": "scaled_float", "scaling_factor": 100},
                    "engagement": {"type": "rank_feature"},
                    "entities": {
                        "type": "nested",
                        "properties": {"name": {"type": "keyword"}, "sentiment": {"type": "float"}},
                    },
                }
            },
        },
    )
    lines = []
    for i in range(50):
        lines.append(json.dumps({"index": {"_id": str(i), "version": 1000 + i, "version_type": "external"}}))
        lines.append(
            json.dumps(
                {
                    "text": f"battery drains when running apps {i}" if i % 2 else f"great camera photos {i}",
                    "title": "Acme Phone" if i % 2 else "Other Cam",
                    "brand": "acme" if i % 2 else "other",
                    "created_at": f"2026-01-{1 + i % 28:02d}T10:00:00Z",
                    "score": (i % 10) / 10,
                    "engagement": 1 + i,
                    "entities": [{"name": "battery" if i % 2 else "camera", "sentiment": 0.5 - (i % 2)}],
                }
            )
        )
    _http("POST", f"{index}/_bulk?refresh=true", ndjson="\n".join(lines) + "\n")
    _http(
        "POST",
        f"{index}/_update/1",
        {"script": {"source": "ctx._source.score += params.d", "params": {"d": 0.1}}},
    )
    _http(
        "POST",
        f"{index}/_search",
        {
            "query": {
                "bool": {
                    "must": [{"match": {"text": "run"}}, {"match": {"title": "acm"}}],
                    "should": [{"rank_feature": {"field": "engagement"}}],
                    "filter": [
                        {"range": {"created_at": {"gte": "2026-01-01"}}},
                        {"nested": {"path": "entities", "query": {"term": {"entities.name": "battery"}}}},
                    ],
                }
            },
            "highlight": {"fields": {"text": {}}},
            "aggs": {
                "sig": {"significant_text": {"field": "text"}},
                "brands": {"terms": {"field": "brand"}, "aggs": {"avg": {"avg": {"field": "score"}}}},
                "days": {"date_histogram": {"field": "created_at", "calendar_interval": "day"}},
                "ents": {
                    "nested": {"path": "entities"},
                    "aggs": {"n": {"terms": {"field": "entities.name"}}},
                },
            },
        },
    )
    _http("DELETE", index)


# -------------------------------------------------------------------------------------------- health


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log file)"
    return "\n".join("    " + line[:400] for line in text[-lines:]) or "(log is empty)"


def wait_healthy(url: str, timeout_s: float, log_path: Path, proc: subprocess.Popen | None = None) -> None:
    """Wait until the node at url reports yellow or green.

    Raises RuntimeError naming log_path and quoting its last lines when the timeout passes or proc
    (if given) exits first.
    """
    health = url.rstrip("/") + "/_cluster/health?wait_for_status=yellow&timeout=2s"
    deadline = time.monotonic() + timeout_s
    last_error = "no answer yet"
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"OpenSearch exited with code {proc.returncode} before it was healthy; "
                f"log {log_path}, last lines:\n{_tail(log_path)}"
            )
        try:
            with _LOCAL_HTTP.open(health, timeout=10) as resp:
                status = json.loads(resp.read().decode()).get("status")
            if status in ("yellow", "green"):
                return
            last_error = f"status {status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"  # 408: wait_for_status timed out; 503: no cluster manager yet
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last_error = str(getattr(exc, "reason", exc))
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"OpenSearch at {url} was not healthy after {timeout_s:.0f}s ({last_error}); "
                f"log {log_path}, last lines:\n{_tail(log_path)}"
            )
        time.sleep(0.25)


# ---------------------------------------------------------------------------------------------- stop


_group_alive = group_alive  # one /proc reading for every process-group wait


def _signal(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_node(pid: int, timeout_s: float = 30) -> None:
    """SIGTERM the node's process group (the node closes cleanly), SIGKILL it after timeout_s."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not _group_alive(pid):
            return
        time.sleep(0.1)
    raise RuntimeError(f"OpenSearch process group {pid} is still alive after SIGKILL")
