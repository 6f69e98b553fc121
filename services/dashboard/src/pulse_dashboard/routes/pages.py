"""The page, its static files, liveness, readiness, Prometheus metrics and the page's config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pulse_dashboard.routes.params import State

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter()


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/healthz", include_in_schema=False)
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok\n")


@router.get("/readyz", include_in_schema=False)
def readyz(state: State) -> PlainTextResponse:
    try:
        ok = state.client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return PlainTextResponse(f"opensearch unreachable: {type(exc).__name__}\n", status_code=503)
    return PlainTextResponse("ok\n" if ok else "opensearch unreachable\n", status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/config")
def config(state: State) -> dict[str, Any]:
    settings = state.settings
    return {
        "live_poll_ms": settings.live_poll_ms,
        "auth_mode": settings.auth_mode,
        "max_page_size": settings.max_page_size,
        "alias": settings.stack.opensearch_index_alias,
    }


@router.get("/api/meta")
def meta(state: State) -> dict[str, Any]:
    return state.insights.meta()
