"""A small fault-injecting HTTP proxy in front of the local AWS emulator.

Clients point `PULSE_AWS_ENDPOINT_URL` at the proxy; every request is forwarded to the emulator
unchanged, except the operations a fault rule targets (by the `X-Amz-Target` header of the AWS
JSON protocol), which are rewritten like a throttled AWS would:

- `PutRecordsThrottle(fraction)`: Kinesis PutRecords. A `fraction` of the entries is *not* sent
  upstream and comes back with `ErrorCode: ProvisionedThroughputExceededException`;
  `FailedRecordCount` is adjusted. The other entries are really written.
- `BatchWriteUnprocessed(fraction)`: DynamoDB BatchWriteItem. A `fraction` of the write requests is
  withheld and returned in `UnprocessedItems`.
- `RequestError(target, fraction, status, code)`: a whole call fails (e.g. 400 ThrottlingException,
  500 InternalFailure) without reaching the emulator.

Use it in-process (`with FaultProxy(upstream, rules=[...]) as proxy: proxy.url`) or as a process:
`python -m pulse_devstack.fault_proxy --port 4577 --put-records-failure 0.3`. HTTP/1.1 only: the
KCL's HTTP/2 traffic should keep talking to the emulator directly.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import signal
import sys
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass
class Call:
    """One intercepted call: what the rule may change before and after the upstream round trip."""

    target: str
    request: dict[str, Any]
    rng: random.Random
    state: dict[str, Any] = field(default_factory=dict)
    # Set by a rule to answer without going upstream: (status, json body).
    short_circuit: tuple[int, dict[str, Any]] | None = None


class FaultRule:
    """Base class: `target` is the X-Amz-Target this rule rewrites."""

    target: str = ""

    def __init__(self) -> None:
        self.injected = 0
        self.lock = threading.Lock()

    def before(self, call: Call) -> None:
        """Rewrite call.request (or set call.short_circuit) before forwarding."""

    def after(self, call: Call, response: dict[str, Any]) -> dict[str, Any]:
        """Rewrite the upstream JSON response."""
        return response

    def _count(self, n: int) -> None:
        with self.lock:
            self.injected += n


class PutRecordsThrottle(FaultRule):
    target = "Kinesis_20131202.PutRecords"

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction

    def before(self, call: Call) -> None:
        records = call.request.get("Records", [])
        failed = [call.rng.random() < self.fraction for _ in records]
        call.state["failed"] = failed
        call.request["Records"] = [r for r, f in zip(records, failed, strict=True) if not f]
        if not call.request["Records"]:
            call.short_circuit = (200, {"FailedRecordCount": 0, "Records": []})
        self._count(sum(failed))

    def after(self, call: Call, response: dict[str, Any]) -> dict[str, Any]:
        upstream = iter(response.get("Records", []))
        merged = []
        stream = call.request.get("StreamName", "stream")
        for failed in call.state["failed"]:
            if failed:
                merged.append(
                    {
                        "ErrorCode": "ProvisionedThroughputExceededException",
                        "ErrorMessage": f"Rate exceeded for shard shardId-000000000000 in stream {stream} "
                        "under account 123456789012.",
                    }
                )
            else:
                merged.append(next(upstream))
        return {
            **response,
            "Records": merged,
            "FailedRecordCount": sum(1 for r in merged if r.get("ErrorCode")),
        }


class BatchWriteUnprocessed(FaultRule):
    target = "DynamoDB_20120810.BatchWriteItem"

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction

    def before(self, call: Call) -> None:
        kept: dict[str, list[Any]] = {}
        withheld: dict[str, list[Any]] = {}
        for table, requests in call.request.get("RequestItems", {}).items():
            for request in requests:
                bucket = withheld if call.rng.random() < self.fraction else kept
                bucket.setdefault(table, []).append(request)
        call.state["withheld"] = withheld
        call.request["RequestItems"] = kept
        self._count(sum(len(v) for v in withheld.values()))
        if not kept:
            call.short_circuit = (200, {"UnprocessedItems": {}})

    def after(self, call: Call, response: dict[str, Any]) -> dict[str, Any]:
        unprocessed = {k: list(v) for k, v in response.get("UnprocessedItems", {}).items()}
        for table, requests in call.state["withheld"].items():
            unprocessed.setdefault(table, []).extend(requests)
        return {**response, "UnprocessedItems": unprocessed}


class RequestError(FaultRule):
    """Fail a `fraction` of whole calls to `target` with an AWS-style JSON error."""

    def __init__(
        self, target: str, fraction: float, status: int = 400, code: str = "ThrottlingException"
    ) -> None:
        super().__init__()
        self.target = target
        self.fraction = fraction
        self.status = status
        self.code = code

    def before(self, call: Call) -> None:
        if call.rng.random() < self.fraction:
            self._count(1)
            call.short_circuit = (self.status, {"__type": self.code, "message": "injected by fault proxy"})


class FaultProxy:
    def __init__(
        self,
        upstream: str = "http://127.0.0.1:4566",
        *,
        rules: list[FaultRule] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules: dict[str, FaultRule] = {rule.target: rule for rule in rules or []}
        self.rng = random.Random(seed)
        self.rng_lock = threading.Lock()
        self.requests = 0
        self.intercepted = 0
        self._stats_lock = threading.Lock()
        self._local = threading.local()
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def injected(self) -> int:
        return sum(rule.injected for rule in self.rules.values())

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ forwarding

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
            self._local.conn = conn
        return conn

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes):
        for attempt in range(2):  # one retry on a stale keep-alive connection
            conn = self._connection()
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers:
                    conn.putheader(key, value)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                return response.status, response.reason, response.getheaders(), data
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def _handler_class(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
                target = self.headers.get("X-Amz-Target", "")
                rule = proxy.rules.get(target)
                with proxy._stats_lock:
                    proxy.requests += 1
                    if rule is not None:
                        proxy.intercepted += 1
                call = None
                if rule is not None and body:
                    with proxy.rng_lock:
                        seed = proxy.rng.random()
                    call = Call(target=target, request=json.loads(body), rng=random.Random(seed))
                    rule.before(call)
                    if call.short_circuit is not None:
                        status, payload = call.short_circuit
                        if status == 200:
                            payload = rule.after(call, payload)
                        self._reply(status, "OK" if status == 200 else "Error", [], _json(payload))
                        return
                    body = _json(call.request)
                try:
                    status, reason, up_headers, data = proxy._forward(self.command, self.path, headers, body)
                except Exception as exc:  # noqa: BLE001 - the client sees a 502 like from any proxy
                    self._reply(502, "Bad Gateway", [], f"fault proxy: upstream failed: {exc}".encode())
                    return
                if call is not None and rule is not None and status == 200:
                    data = _json(rule.after(call, json.loads(data)))
                self._reply(status, reason, up_headers, data)

            def _reply(self, status: int, reason: str, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status, reason)
                has_type = False
                for key, value in headers:
                    low = key.lower()
                    if low in HOP_BY_HOP or low in {"date", "server"}:
                        continue
                    if low == "x-amz-crc32":
                        value = str(zlib.crc32(data) & 0xFFFFFFFF)
                    has_type |= low == "content-type"
                    self.send_header(key, value)
                if not has_type:
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injecting proxy in front of the local AWS emulator.")
    parser.add_argument("--upstream", default="http://127.0.0.1:4566")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (printed on start)")
    parser.add_argument(
        "--put-records-failure", type=float, default=0.0, help="fraction of PutRecords entries"
    )
    parser.add_argument(
        "--batch-write-unprocessed", type=float, default=0.0, help="fraction of BatchWriteItem"
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    rules: list[FaultRule] = []
    if args.put_records_failure > 0:
        rules.append(PutRecordsThrottle(args.put_records_failure))
    if args.batch_write_unprocessed > 0:
        rules.append(BatchWriteUnprocessed(args.batch_write_unprocessed))
    proxy = FaultProxy(args.upstream, rules=rules, host=args.host, port=args.port, seed=args.seed)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    proxy.start()
    print(f"fault proxy listening on {proxy.url} -> {args.upstream}", flush=True)
    done.wait()
    proxy.stop()
    print(
        json.dumps({"requests": proxy.requests, "intercepted": proxy.intercepted, "injected": proxy.injected})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
