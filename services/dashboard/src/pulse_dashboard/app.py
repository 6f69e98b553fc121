"""The dashboard's FastAPI app: JSON API over OpenSearch aggregations, the page, CSV and reports.

Endpoints (every /api/* view takes the common filters: since, until, product, competitor,
network, lang, include_unscored; see filters.py):

    GET /                          the page (static HTML/CSS/JS, works offline)
    GET /api/meta                  tracked brands and aspects, networks, languages, data time bounds
    GET /api/overview              KPI: posts, authors, sentiment split and net sentiment per brand
    GET /api/timeline              volume × sentiment over time per brand, with spike markers
    GET /api/aspects               per aspect: positive/neutral/negative, net (95 % CI), quotes, trend
    GET /api/share-of-voice        per brand and per aspect × brand, with net-sentiment CIs
    GET /api/influencers           advocates and detractors (score documented in stats.py)
    GET /api/emerging              emerging topics (recent window, negative posts), new aspects
    GET /api/alerts                aspect spike alerts with top terms and sample posts
    GET /api/posts                 drill-down and search: q, hashtag, aspect, aspect_polarity, ...
    GET /api/live                  posts newer than a cursor (the page polls it)
    GET /api/export/posts.csv      the filtered posts as CSV (bounded)
    GET /api/export/aspects.csv    the aspect table as CSV
    GET /api/report                a one-page HTML report (what `pulse-report` writes)
    GET /healthz /readyz /metrics  liveness, readiness (OpenSearch reachable), Prometheus

Each view is a module of `views` (pure request building and response shaping); the routes are
APIRouters in `routes` (pages, views, posts, report); `create_app` wires them to one `state.AppState`,
authorizes /api/* (`auth.Authorizer`), measures it and maps OpenSearch errors to statuses.
"""

import logging
import time
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError
from prometheus_client import CollectorRegistry

from pulse_common.opensearch import opensearch_client
from pulse_common.tracking import TrackingConfig, load_tracking_config
from pulse_dashboard.auth import Authorizer
from pulse_dashboard.filters import ParamError
from pulse_dashboard.insights import Insights
from pulse_dashboard.routes import pages, posts, report, views
from pulse_dashboard.settings import DashboardSettings
from pulse_dashboard.state import AppState, Metrics, TTLCache

log = logging.getLogger("pulse.dashboard")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
}


def create_app(
    settings: DashboardSettings | None = None,
    *,
    client: OpenSearch | None = None,
    tracking: TrackingConfig | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    settings = settings or DashboardSettings()
    stack = settings.stack
    client = client or opensearch_client(
        stack, timeout_s=settings.request_timeout_s, pool_size=16, max_retries=1
    )
    tracking = tracking or load_tracking_config(stack.tracking_config)
    insights = Insights(
        client,
        stack.opensearch_index_alias,
        tracking,
        timeout_s=settings.request_timeout_s,
        sample_docs=settings.emerging_sample_docs,
    )
    metrics = Metrics(registry or CollectorRegistry())
    cache = TTLCache(settings.cache_ttl_s, settings.cache_entries)
    state = AppState(settings, client, tracking, insights, metrics, cache)

    app = FastAPI(
        title="Pulse insights",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.pulse = state
    app.state.settings = settings
    app.state.insights = insights
    app.state.metrics = metrics
    _error_handlers(app, state)
    _around_requests(app, state, Authorizer(settings, metrics))
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.include_router(views.router)
    app.include_router(posts.router)
    app.include_router(report.router)
    return app


def _error_handlers(app: FastAPI, state: AppState) -> None:
    metrics, alias = state.metrics, state.settings.stack.opensearch_index_alias

    @app.exception_handler(ParamError)
    async def _param_error(_request: Request, exc: ParamError) -> JSONResponse:
        return JSONResponse(
            {"error": "bad_request", "param": exc.param, "message": exc.message}, status_code=400
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        param = str(first.get("loc", ["", "?"])[-1])
        return JSONResponse(
            {"error": "bad_request", "param": param, "message": first.get("msg", "invalid")}, status_code=400
        )

    @app.exception_handler(NotFoundError)
    async def _not_found(_request: Request, _exc: NotFoundError) -> JSONResponse:
        metrics.search_errors.labels("index_missing").inc()
        return JSONResponse(
            {"error": "no_data", "message": f"nothing indexed yet: no index behind the alias {alias!r}"},
            status_code=404,
        )

    @app.exception_handler(OSConnectionError)
    async def _unreachable(_request: Request, exc: OSConnectionError) -> JSONResponse:
        metrics.search_errors.labels("unreachable").inc()
        log.warning("opensearch unreachable", extra={"error": str(exc)[:300]})
        return JSONResponse(
            {"error": "search_unavailable", "message": "OpenSearch is unreachable; retry shortly"},
            status_code=503,
        )

    @app.exception_handler(TransportError)
    async def _transport(_request: Request, exc: TransportError) -> JSONResponse:
        metrics.search_errors.labels("error").inc()
        log.error("opensearch error", extra={"status": exc.status_code, "error": str(exc.info)[:500]})
        return JSONResponse(
            {"error": "search_error", "message": f"OpenSearch answered {exc.status_code}"}, status_code=502
        )


def _around_requests(app: FastAPI, state: AppState, authorizer: Authorizer) -> None:
    """Authorize /api/*, measure it per route, and set the security headers on every response."""
    metrics = state.metrics

    @app.middleware("http")
    async def _around(request: Request, call_next: Callable) -> Response:
        path = request.url.path
        if path.startswith("/api/") and not await authorizer.authorized(request):
            response: Response = JSONResponse(authorizer.refusal(), status_code=401)
        else:
            started = time.perf_counter()
            response = await call_next(request)
            route = request.scope.get("route")
            if path.startswith("/api/") and route is not None:
                label = getattr(route, "path", "other")
                metrics.latency.labels(label).observe(time.perf_counter() - started)
                metrics.requests.labels(label, f"{response.status_code // 100}xx").inc()
        response.headers.update(SECURITY_HEADERS)
        return response
