from __future__ import annotations

import pytest

from pulse_enricher import cli
from pulse_enricher.daemon import DaemonError, find_java, jars_dir, java_command, write_config
from pulse_enricher.settings import EnricherSettings


def test_the_kcl_jars_ship_inside_amazon_kclpy():
    jars = jars_dir()
    assert any(jars.glob("amazon-kinesis-client-multilang-3.1.3.jar"))


def test_the_jvm_runs_the_multilang_daemon_without_cbor_on_the_kclpy_classpath(tmp_path):
    settings = EnricherSettings(jvm_opts="-Xmx256m")
    properties, logback = write_config(settings, tmp_path)
    argv = java_command(settings, properties, logback)
    assert "-Daws.cborEnabled=false" in argv and "-Xmx256m" in argv
    assert argv[argv.index("-cp") + 1] == f"{jars_dir()}/*"
    assert argv[-5:] == ["software.amazon.kinesis.multilang.MultiLangDaemon", "--properties-file",
                         str(properties), "--log-configuration", str(logback)]
    assert properties.read_text().count("streamName = ") == 1



def test_by_default_the_daemon_jvm_runs_c1_only_with_a_young_generation_sized_for_fetched_batches(tmp_path):
    properties, logback = write_config(EnricherSettings(), tmp_path)
    argv = java_command(EnricherSettings(), properties, logback)
    jvm = argv[: argv.index("-cp")]
    assert {"-XX:TieredStopAtLevel=1", "-Xmn96m", "-XX:+UseSerialGC", "-Xmx384m"} <= set(jvm)


def test_a_missing_java_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(DaemonError, match="JAVA_HOME"):
        find_java(EnricherSettings(java=None))


def test_pulse_enricher_properties_prints_the_generated_file(capsys: pytest.CaptureFixture, monkeypatch):
    monkeypatch.setenv("PULSE_STREAM_NAME", "printed-stream")
    assert cli.main(["properties"]) == 0
    assert "streamName = printed-stream" in capsys.readouterr().out


def test_pulse_enricher_help_names_every_command(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert all(word in out for word in ("run", "properties", "processor", "PULSE_ENRICHER_"))
