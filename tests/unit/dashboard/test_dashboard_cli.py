"""`pulse-dashboard --port 0` prints its URL only once the URL accepts connections."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path


def test_the_printed_url_accepts_a_connection_at_once():
    script = Path(sys.executable).with_name("pulse-dashboard")
    env = {**os.environ, "PULSE_OPENSEARCH_URL": "http://127.0.0.1:9"}
    proc = subprocess.Popen([str(script), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env=env, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.match(r"^pulse-dashboard: http://([\d.]+):(\d+)/$", line.strip())
        assert match, line
        # No wait, no retry: a socket bound but not yet listening would refuse this.
        with socket.create_connection((match[1], int(match[2])), timeout=5):
            pass
    finally:
        proc.terminate()
        proc.wait(timeout=15)
