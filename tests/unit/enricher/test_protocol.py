from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "enricher"


def test_the_processor_speaks_only_the_kcl_protocol_on_stdout_and_logs_json_on_stderr():
    env = {
        **os.environ,
        "PYTHONPATH": f"{FIXTURES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "PULSE_AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never called in this exchange
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    messages = [
        {"action": "initialize", "shardId": "shardId-000000000003", "sequenceNumber": "TRIM_HORIZON",
         "subSequenceNumber": 0},
        {"action": "processRecords", "records": [], "millisBehindLatest": 0},
        {"action": "shutdownRequested"},
    ]
    proc = subprocess.run(
        # The processor's own entry point, with a stand-in NLP core that prints to stdout injected.
        [sys.executable, "-c", "import sys, enricher_noisy; from pulse_enricher.processor import main; "
                               "sys.exit(main(build_enricher=enricher_noisy.factory))"],
        input="".join(json.dumps(m) + "\n" for m in messages),
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert out == [{"action": "status", "responseFor": m["action"]} for m in messages]
    assert "noise from python print" in proc.stderr and "noise from fd 1" in proc.stderr
    logs = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    init = next(entry for entry in logs if entry["msg"] == "processor initialized")
    assert init["shard_id"] == "shardId-000000000003" and init["service"] == "enricher"
