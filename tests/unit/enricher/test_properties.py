from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest

from pulse_enricher.properties import kcl_properties, render_logback, render_properties
from pulse_enricher.settings import EnricherSettings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch):
    import os

    for key in list(os.environ):
        if key.startswith("PULSE_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_local_properties_point_the_kcl_at_the_emulator_with_polling_and_no_cloudwatch(clean_env):
    clean_env.setenv("PULSE_AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    clean_env.setenv("PULSE_STREAM_NAME", "s1")
    clean_env.setenv("PULSE_ENRICHER_APPLICATION_NAME", "app1")
    props = kcl_properties(EnricherSettings())
    assert props["kinesisEndpoint"] == props["dynamoDBEndpoint"] == "http://127.0.0.1:4566"
    assert props["streamName"] == "s1" and props["applicationName"] == "app1"
    assert props["retrievalMode"] == "POLLING" and props["metricsLevel"] == "NONE"
    assert props["initialPositionInStream"] == "TRIM_HORIZON"
    assert props["executableName"] == f"{sys.executable} -m pulse_enricher processor"
    assert int(props["failoverTimeMillis"]) <= 5000 and int(props["shardSyncIntervalMillis"]) <= 1000


def test_aws_properties_use_real_endpoints_cloudwatch_and_the_kcl_default_timings(clean_env):
    clean_env.setenv("PULSE_ENRICHER_INITIAL_POSITION", "LATEST")
    clean_env.setenv("PULSE_ENRICHER_WORKER_ID", "task-1")
    props = kcl_properties(EnricherSettings())
    assert "kinesisEndpoint" not in props and "dynamoDBEndpoint" not in props
    assert props["metricsLevel"] == "SUMMARY" and props["initialPositionInStream"] == "LATEST"
    assert props["failoverTimeMillis"] == "10000" and props["shardSyncIntervalMillis"] == "60000"
    assert props["workerId"] == "task-1"


def test_every_property_is_one_key_equals_value_line(clean_env):
    text = render_properties(EnricherSettings())
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(" = " in line for line in lines)
    assert len({line.split(" = ")[0] for line in lines}) == len(lines)


def test_the_daemon_log_configuration_is_valid_xml_that_silences_the_duplicate_child_lines(clean_env):
    root = ET.fromstring(render_logback(EnricherSettings(kcl_log_level="warn")))
    loggers = {el.get("name"): el.get("level") for el in root.iter("logger")}
    assert loggers["software.amazon.kinesis.multilang.DrainChildSTDERRTask"] == "OFF"
    assert root.find("root").get("level") == "WARN"


def test_the_kcl_client_version_is_left_to_the_kcl_unless_set(clean_env):
    assert "clientVersionConfig" not in kcl_properties(EnricherSettings())
    compatible = "CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X"
    clean_env.setenv("PULSE_ENRICHER_CLIENT_VERSION_CONFIG", compatible)
    assert kcl_properties(EnricherSettings())["clientVersionConfig"] == compatible
