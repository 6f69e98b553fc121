"""CLI and settings: help for every source, environment variables, usage errors, pacing, stdin."""

from __future__ import annotations

import io
import json
import threading

import pytest
from producer_fakes import FakeDeadLetter, FakeKinesis

from pulse_producer import cli
from pulse_producer.runner import Runner
from pulse_producer.sample import generate
from pulse_producer.settings import ProducerSettings
from pulse_producer.sink import KinesisSink
from pulse_producer.sources import Pacer
from pulse_producer.sources.replay import ReplaySource


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["replay", "--help"], ["synthetic", "--help"], ["x", "--help"], ["bluesky", "--help"]],
)
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 0
    assert "usage: pulse-producer" in capsys.readouterr().out


def test_settings_come_from_the_environment_with_the_stack_nested(monkeypatch):
    monkeypatch.setenv("PULSE_PRODUCER_METRICS_PORT", "0")
    monkeypatch.setenv("PULSE_PRODUCER_X_BEARER_TOKEN", "s3cret")
    monkeypatch.setenv("PULSE_PRODUCER_LINGER_MS", "250")
    monkeypatch.setenv("PULSE_STREAM_NAME", "from-env")
    settings = ProducerSettings()
    assert (settings.metrics_port, settings.linger_ms, settings.stack.stream_name) == (0, 250, "from-env")
    assert settings.x_bearer_token.get_secret_value() == "s3cret" and "s3cret" not in repr(settings)


def test_command_line_options_override_the_environment(monkeypatch):
    monkeypatch.setenv("PULSE_PRODUCER_RATE", "5")
    args = cli.build_parser().parse_args(["--stream", "s2", "replay", "--rate", "50", "--loop", "f"])
    settings = cli._settings(args)
    assert (settings.rate, settings.loop, settings.stack.stream_name) == (50.0, True, "s2")


def test_the_x_source_without_a_token_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("PULSE_PRODUCER_X_BEARER_TOKEN", raising=False)
    args = cli.build_parser().parse_args(["x"])
    with pytest.raises(cli.UsageError, match="PULSE_PRODUCER_X_BEARER_TOKEN"):
        cli.build_source(args, cli._settings(args))


def test_a_missing_replay_file_is_a_usage_error():
    args = cli.build_parser().parse_args(["replay", "/nonexistent/posts.jsonl"])
    with pytest.raises(cli.UsageError, match="no such file"):
        cli.build_source(args, cli._settings(args))


def test_invalid_settings_exit_2_with_the_variable_named(monkeypatch, capsys):
    monkeypatch.setenv("PULSE_PRODUCER_BATCH_MAX_RECORDS", "900")
    assert cli.main(["synthetic", "--count", "1"]) == 2
    assert "batch_max_records" in capsys.readouterr().err


def _pacer_on_a_fake_clock(rate: float) -> tuple[Pacer, list[float], list[float]]:
    """A pacer whose waits only move the clock: (pacer, [now], the waits asked for)."""
    now = [0.0]
    waits: list[float] = []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            now[0] += timeout
            return False

    return Pacer(rate, Stop(), clock=lambda: now[0]), now, waits


def test_the_pacer_spreads_events_at_the_rate_on_an_injected_clock():
    pacer, _now, waits = _pacer_on_a_fake_clock(4.0)
    for _ in range(5):
        assert pacer.wait()
    assert waits == pytest.approx([0.25, 0.25, 0.25, 0.25])


def test_the_pacer_sleeps_only_once_events_are_a_slack_ahead_and_keeps_the_rate():
    from pulse_producer.sources import PACING_SLACK_S

    pacer, now, waits = _pacer_on_a_fake_clock(500.0)
    for emitted in range(1, 1001):
        assert pacer.wait()
        # Never more than the slack ahead of the schedule: 500/s, so 5 posts for 10 ms.
        assert emitted <= 1 + 500 * (now[0] + PACING_SLACK_S) + 1e-9
    assert now[0] == pytest.approx(999 / 500, abs=PACING_SLACK_S + 1e-9)  # the rate holds over the run
    assert len(waits) <= 1000 / (500 * PACING_SLACK_S) + 1  # about one sleep per 10 ms, not per post


def test_stdin_replay_reads_plain_and_gzip(fake_kinesis: FakeKinesis, fake_dead_letter: FakeDeadLetter):
    import gzip

    payload = b"".join(json.dumps(m.doc).encode() + b"\n" for m in generate(20))
    for data in (payload, gzip.compress(payload)):
        kinesis = FakeKinesis()
        sink = KinesisSink(kinesis, "s", dead_letter=fake_dead_letter, sleep=lambda _s: None)
        summary = Runner(ReplaySource(["-"], stdin=io.BytesIO(data)), sink, linger_s=0.01).run()
        assert (summary.received, summary.put) == (20, 20)


def test_a_stop_during_replay_flushes_what_was_read_and_reports_it(
    fake_kinesis: FakeKinesis, fake_dead_letter
):
    payload = b"".join(json.dumps(m.doc).encode() + b"\n" for m in generate(400))
    source = ReplaySource(["-"], stdin=io.BytesIO(payload), rate=200)
    sink = KinesisSink(fake_kinesis, "s", dead_letter=fake_dead_letter, sleep=lambda _s: None)
    runner = Runner(source, sink, linger_s=60)
    threading.Timer(0.5, runner.stop).start()
    summary = runner.run()
    assert 0 < summary.received < 400 and summary.put == summary.received == len(fake_kinesis.records)
