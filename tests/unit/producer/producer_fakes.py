"""Local fake servers for the producer's live sources: an X filtered stream and a Jetstream."""

from __future__ import annotations

import json
import select
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeKinesis:
    """put_records that stores accepted records; `fail_entry(call, index, record)` -> error code or None."""

    def __init__(self, fail_entry: Callable[[int, int, dict[str, Any]], str | None] | None = None) -> None:
        self.fail_entry = fail_entry
        self.records: list[dict[str, Any]] = []
        self.calls: list[int] = []
        self.call_bytes: list[int] = []
        self.call_errors: list[Exception] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        call = len(self.calls)
        self.calls.append(len(Records))
        self.call_bytes.append(sum(len(r["Data"]) + len(r["PartitionKey"]) for r in Records))
        if self.call_errors:
            raise self.call_errors.pop(0)
        results = []
        failed = 0
        for index, record in enumerate(Records):
            code = self.fail_entry(call, index, record) if self.fail_entry else None
            if code:
                failed += 1
                results.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                self.records.append(record)
                results.append({"SequenceNumber": str(len(self.records)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": failed, "Records": results}

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:  # noqa: N803
        return {"StreamDescriptionSummary": {"StreamStatus": "ACTIVE"}}


class FakeDeadLetter:
    """A DeadLetterWriter that keeps what it was given."""

    def __init__(self) -> None:
        self.letters: list[dict[str, Any]] = []

    def send(self, letters) -> None:
        for letter in letters:
            self.letters.append({"service": letter.service, "reason": letter.reason, "source": letter.source,
                                 "raw": letter.raw, "error": letter.error, "post_id": letter.post_id})


class FakeClock:
    """Time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds
        time.sleep(0.005)  # let the server notice the previous connection closing


class LocalHTTPServer:
    """A real HTTP server on 127.0.0.1 (a free port) running `handler` in threads until close()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeXServer(LocalHTTPServer):
    """Serves /2/tweets/search/stream from a script, one step per connection, and the rules API.

    Steps: "drop" (close without a response), ("status", code), ("tweets", [docs]) then a clean close,
    "stall" (a keep-alive, then silence until the client hangs up).
    """

    def __init__(
        self, script: list[Any], clock: FakeClock, rules: list[dict[str, str]] | None = None
    ) -> None:
        self.script = list(script)
        self.clock = clock
        self.rules = list(rules or [])
        self.rule_posts: list[dict[str, Any]] = []
        self.connections: list[tuple[float, Any]] = []
        self.active = 0
        self.overlaps = 0
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.auth_headers: list[str] = []
        super().__init__(self._handler())

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.auth_headers.append(self.headers.get("Authorization", ""))
                if self.path.startswith("/2/tweets/search/stream/rules"):
                    self._json(200, {"data": fake.rules, "meta": {"result_count": len(fake.rules)}})
                    return
                if not self.path.startswith("/2/tweets/search/stream"):
                    self._json(404, {"title": "Not Found"})
                    return
                with fake.idle:
                    # One connection at a time: the previous one must be gone (give it 2 s to close).
                    if not fake.idle.wait_for(lambda: fake.active == 0, timeout=2):
                        fake.overlaps += 1
                    fake.active += 1
                    step = fake.script.pop(0) if fake.script else ("status", 401)
                    fake.connections.append((fake.clock.now, step if isinstance(step, str) else step[0]))
                try:
                    self._serve(step)
                finally:
                    with fake.idle:
                        fake.active -= 1
                        fake.idle.notify_all()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.rule_posts.append(body)
                if "delete" in body:
                    ids = set(body["delete"]["ids"])
                    fake.rules = [r for r in fake.rules if r["id"] not in ids]
                for i, rule in enumerate(body.get("add", [])):
                    fake.rules.append({"id": f"n{len(fake.rule_posts)}-{i}", **rule})
                self._json(200, {"meta": {"summary": {"created": len(body.get("add", []))}}})

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _serve(self, step: Any) -> None:
                if step == "drop":
                    self.close_connection = True
                    return
                if step == "stall":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self._chunk(b"\r\n")
                    # Silence until the client hangs up (readable + EOF), at most 10 s.
                    select.select([self.connection], [], [], 10)
                    self.close_connection = True
                    return
                kind, arg = step
                if kind == "status":
                    self.close_connection = True
                    self._json(arg, {"title": "error", "status": arg})
                    return
                if kind == "tweets":
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for doc in arg:
                        self._chunk(json.dumps(doc).encode() + b"\r\n")
                        self._chunk(b"\r\n")  # a keep-alive between posts
                    self.wfile.write(b"0\r\n\r\n")
                    self.close_connection = True
                    return
                raise AssertionError(f"unknown step {step!r}")

        return Handler


class FakeJetstream:
    """A WebSocket server: connection n sends script[n] (a list of text frames), then closes."""

    def __init__(self, script: list[list[str]]) -> None:
        from websockets.sync.server import serve

        self.script = list(script)
        self.paths: list[str] = []
        self.server = serve(self._handler, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def _handler(self, connection: Any) -> None:
        self.paths.append(connection.request.path)
        frames = self.script.pop(0) if self.script else []
        for frame in frames:
            connection.send(frame)

    def close(self) -> None:
        self.server.shutdown()


def jetstream_source(server: FakeJetstream, cursor_file: Any, **kw: Any) -> Any:
    """A JetstreamSource on `server` whose first reconnect ends it (so items() returns)."""
    from pulse_common.tracking import load_tracking_config
    from pulse_producer.sources.bluesky import JetstreamSource

    holder: dict[str, Any] = {}

    def stop_on_reconnect(_seconds: float) -> None:
        holder["source"].stop.set()

    options = {"rewind_s": 2.0, "stall_timeout_s": 5, "sleep": stop_on_reconnect, **kw}
    tracking = load_tracking_config()
    source = JetstreamSource(url=server.url, tracking=tracking, cursor_file=cursor_file, **options)
    holder["source"] = source
    return source
