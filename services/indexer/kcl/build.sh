#!/usr/bin/env bash
# Build the indexer's KCL launcher: build.sh <amazon-kclpy jars dir> <output dir>
# Output: <out>/pulse-indexer-kcl.jar and <out>/lib/ (the adapter jar). Run at `make setup`
# (through `python -m pulse_indexer.launcher build`, which skips it when nothing changed) and in
# the indexer's Docker image. Needs a JDK 17+ (javac, jar) and Maven.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jars=${1:?usage: build.sh <kcl jars dir> <out dir>}
out=${2:?usage: build.sh <kcl jars dir> <out dir>}
ls "$jars"/amazon-kinesis-client-multilang-*.jar >/dev/null \
  || { echo "build.sh: no KCL MultiLangDaemon jar in $jars" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# -C: strict checksums (a download that does not match Maven Central's checksum fails).
mvn -C -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp/lib"
(cd "$tmp/lib" && sha256sum --quiet --strict -c "$here/checksums.sha256")
[ "$(ls "$tmp/lib" | wc -l)" -eq "$(wc -l < "$here/checksums.sha256")" ] \
  || { echo "build.sh: unexpected jars in lib/: $(ls "$tmp/lib")" >&2; exit 1; }
mkdir "$tmp/classes"
javac --release 17 -nowarn -encoding UTF-8 -cp "$jars/*:$tmp/lib/*" -d "$tmp/classes" \
    $(find "$here/src/main/java" -name '*.java' | sort)
jar --create --file "$tmp/pulse-indexer-kcl.jar" -C "$tmp/classes" .
rm -rf "$out/lib" "$out/pulse-indexer-kcl.jar"
mv "$tmp/lib" "$out/lib"
mv "$tmp/pulse-indexer-kcl.jar" "$out/pulse-indexer-kcl.jar"
echo "build.sh: launcher ready in $out"
