"""What the security tests share: a stand-in for OpenSearch that records every request body (what
would have reached OpenSearch) and answers with the posts it was given; a local HTTP endpoint."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from producer_fakes import LocalHTTPServer


class RecordingSearch:
    """Answers `search` with `posts` (as hits, once) and empty aggregations; keeps every body."""

    def __init__(self, posts: list[dict[str, Any]] | None = None) -> None:
        self.posts = list(posts or [])
        self.bodies: list[dict[str, Any]] = []

    def search(self, index, body, params=None, request_timeout=None):
        self.bodies.append(body)
        hits = [{"_id": p["id"], "_source": p, "sort": [i]} for i, p in enumerate(self.posts)]
        self.posts = []
        return {"hits": {"total": {"value": len(hits)}, "hits": hits}, "aggregations": {}}

    def ping(self):
        return True


class LocalEndpoint(LocalHTTPServer):
    """GET <path> answers `files[path]` (200) or 404, and keeps every path asked for. Stands in for
    AWS's ALB key endpoint and for Maven Central."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return

            def do_GET(self) -> None:
                path = self.path.lstrip("/")
                endpoint.requests.append(path)
                body = endpoint.files.get(path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        super().__init__(Handler)
