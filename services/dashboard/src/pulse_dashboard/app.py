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
    GET /api/emerging              significant terms (recent window, negative posts), new aspects
    GET /api/alerts                aspect spike alerts with top terms and sample posts
    GET /api/posts                 drill-down and search: q, hashtag, aspect, aspect_polarity, ...
    GET /api/live                  posts newer than a cursor (the page polls it)
    GET /api/export/posts.csv      the filtered posts as CSV (bounded)
    GET /api/export/aspects.csv    the aspect table as CSV
    GET /api/report                a one-page HTML report (what `pulse-report` writes)
    GET /healthz /readyz /metrics  liveness, readiness (OpenSearch reachable), Prometheus
"""

import csv
import hmac
import io
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.concurrency import run_in_threadpool

from pulse_common.metrics import CALL_LATENCY_BUCKETS
from pulse_common.opensearch import opensearch_client
from pulse_common.tracking import TrackingConfig, load_tracking_config
from pulse_dashboard.alb_oidc import HEADER as OIDC_DATA_HEADER
from pulse_dashboard.alb_oidc import AlbClaimsVerifier, InvalidClaims, email_allowed
from pulse_dashboard.filters import POLARITIES, Filters, ParamError, parse_filters, parse_ids, parse_page
from pulse_dashboard.insights import Insights
from pulse_dashboard.settings import DashboardSettings

log = logging.getLogger("pulse.dashboard")
STATIC = Path(__file__).resolve().parent / "static"
ListParam = Annotated[list[str] | None, Query()]


class TTLCache:
    """A small thread-safe LRU of view results, each kept `ttl_s` seconds."""

    def __init__(self, ttl_s: float, entries: int) -> None:
        self.ttl_s = ttl_s
        self.entries = entries
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: str, compute: Callable[[], Any], on_hit: Callable[[bool], None]) -> Any:
        if self.ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > now:
                self._data.move_to_end(key)
                on_hit(True)
                return hit[1]
        on_hit(False)
        value = compute()
        with self._lock:
            self._data[key] = (now + self.ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
        return value


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "pulse_dashboard_requests_total",
            "API requests by route and status class",
            ["route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "pulse_dashboard_request_duration_seconds",
            "API latency by route",
            ["route"],
            buckets=CALL_LATENCY_BUCKETS,
            registry=registry,
        )
        self.cache = Counter(
            "pulse_dashboard_cache_lookups_total",
            "Aggregation view cache lookups",
            ["result"],
            registry=registry,
        )
        self.auth_refused = Counter(
            "pulse_dashboard_auth_refused_total",
            "oidc-header requests refused, by the check that failed",
            ["reason"],
            registry=registry,
        )
        self.search_errors = Counter(
            "pulse_dashboard_opensearch_errors_total",
            "OpenSearch calls that failed, by kind",
            ["kind"],
            registry=registry,
        )


def _csv_writer(buf: io.StringIO) -> Any:
    """Every cell quoted, so a reader splitting on `,` keeps each cell whole (see _csv_safe)."""
    return csv.writer(buf, quoting=csv.QUOTE_ALL)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet whose list separator is `;` (or a paste split at tabs or lines) reads what follows
# such a character inside a cell as the start of a new cell: it must not start a formula either.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n])(?=\s*[=+\-@])")


def _csv_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula, however it splits the line."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", str(value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


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

    def cached(view: str, f: Filters, compute: Callable[[], Any], **extra: Any) -> Any:
        key = json.dumps([view, f.as_params(), extra], sort_keys=True, default=str)
        return cache.get_or_compute(
            key, compute, lambda hit: metrics.cache.labels("hit" if hit else "miss").inc()
        )

    app = FastAPI(
        title="Pulse insights",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.insights = insights
    app.state.metrics = metrics

    # -- errors -------------------------------------------------------------------------------

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
            {
                "error": "no_data",
                "message": f"nothing indexed yet: no index behind the alias {stack.opensearch_index_alias!r}",
            },
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

    # -- auth, metrics, security headers ------------------------------------------------------

    claims_verifier = (
        AlbClaimsVerifier(settings.oidc_signer_arn or "", settings.keys_url)
        if settings.auth_mode == "oidc-header"
        else None
    )

    def token_authorized(request: Request) -> bool:
        expected = settings.auth_token.get_secret_value().encode() if settings.auth_token else b""
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get("pulse_token", "")
        return bool(expected) and hmac.compare_digest(given.encode(), expected)

    def oidc_authorized(request: Request) -> bool:
        """Only what this load balancer signed counts (alb_oidc.py), then the allow-list."""
        assert claims_verifier is not None
        try:
            email = claims_verifier.email(request.headers.get(OIDC_DATA_HEADER, ""))
        except InvalidClaims as exc:
            metrics.auth_refused.labels(exc.reason.split(":")[0]).inc()
            return False
        if not email_allowed(email, settings.oidc_allowed):
            metrics.auth_refused.labels("not_allowed").inc()
            return False
        return True

    async def authorized(request: Request) -> bool:
        if settings.auth_mode == "none":
            return True
        if settings.auth_mode == "token":
            return token_authorized(request)
        # A first request with a new key id fetches its public key: off the event loop.
        return await run_in_threadpool(oidc_authorized, request)

    @app.middleware("http")
    async def _around(request: Request, call_next: Callable) -> Response:
        path = request.url.path
        if path.startswith("/api/") and not await authorized(request):
            response: Response = JSONResponse(
                {
                    "error": "unauthorized",
                    "auth_mode": settings.auth_mode,
                    "message": "this dashboard needs a token"
                    if settings.auth_mode == "token"
                    else "sign in through the load balancer",
                },
                status_code=401,
            )
        else:
            started = time.perf_counter()
            response = await call_next(request)
            route = request.scope.get("route")
            if path.startswith("/api/") and route is not None:
                label = getattr(route, "path", "other")
                metrics.latency.labels(label).observe(time.perf_counter() - started)
                metrics.requests.labels(label, f"{response.status_code // 100}xx").inc()
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        )
        return response

    # -- common parameters --------------------------------------------------------------------

    def filters(
        since: str | None = None,
        until: str | None = None,
        product: ListParam = None,
        competitor: ListParam = None,
        network: ListParam = None,
        lang: ListParam = None,
        include_unscored: bool = False,
    ) -> Filters:
        return parse_filters(
            since=since,
            until=until,
            product=product,
            competitor=competitor,
            network=network,
            lang=lang,
            include_unscored=include_unscored,
            max_range_days=settings.max_range_days,
        )

    QueryFilters = Annotated[Filters, Depends(filters)]  # noqa: N806 - a type alias

    def polarity_param(name: str, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value not in POLARITIES:
            raise ParamError(name, f"one of {', '.join(POLARITIES)}")
        return value

    def post_query(
        f: QueryFilters,
        q: str | None = None,
        hashtag: str | None = None,
        aspect: str | None = None,
        aspect_polarity: str | None = None,
        aspect_product: str | None = None,
        polarity: str | None = None,
        author: str | None = None,
        brand: str | None = None,
    ) -> dict[str, Any]:
        if author is not None and not (0 < len(author) <= 200):
            raise ParamError("author", "1 to 200 characters")
        return insights.posts_query(
            f,
            q=q or None,
            hashtag=hashtag or None,
            aspect=aspect or None,
            aspect_polarity=polarity_param("aspect_polarity", aspect_polarity),
            aspect_product=(parse_ids("aspect_product", aspect_product) or [None])[0],
            polarity=polarity_param("polarity", polarity),
            author=author or None,
            brand=(parse_ids("brand", brand) or [None])[0],
        )

    # -- routes -------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok\n")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> PlainTextResponse:
        try:
            ok = client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return PlainTextResponse(f"opensearch unreachable: {type(exc).__name__}\n", status_code=503)
        return PlainTextResponse("ok\n" if ok else "opensearch unreachable\n", status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/api/config")
    def config() -> dict[str, Any]:
        return {
            "live_poll_ms": settings.live_poll_ms,
            "auth_mode": settings.auth_mode,
            "max_page_size": settings.max_page_size,
            "alias": stack.opensearch_index_alias,
        }

    @app.get("/api/meta")
    def meta() -> dict[str, Any]:
        return insights.meta()

    @app.get("/api/overview")
    def overview(f: QueryFilters) -> dict[str, Any]:
        return cached("overview", f, lambda: insights.overview(f))

    @app.get("/api/timeline")
    def timeline(f: QueryFilters, interval: str | None = None) -> dict[str, Any]:
        return cached("timeline", f, lambda: insights.timeline(f, interval), interval=interval)

    @app.get("/api/aspects")
    def aspects(
        f: QueryFilters, quotes: Annotated[int, Query(ge=0, le=5)] = 2, trend: bool = True
    ) -> dict[str, Any]:
        return cached(
            "aspects", f, lambda: insights.aspects(f, quotes=quotes, trend=trend), q=quotes, t=trend
        )

    @app.get("/api/share-of-voice")
    def share_of_voice(f: QueryFilters) -> dict[str, Any]:
        return cached("sov", f, lambda: insights.share_of_voice(f))

    @app.get("/api/influencers")
    def influencers(f: QueryFilters, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
        return cached("influencers", f, lambda: insights.influencers(f, limit=limit), limit=limit)

    @app.get("/api/emerging")
    def emerging(f: QueryFilters, size: Annotated[int, Query(ge=1, le=50)] = 15) -> dict[str, Any]:
        return cached("emerging", f, lambda: insights.emerging(f, size=size), size=size)

    @app.get("/api/alerts")
    def alerts(
        f: QueryFilters,
        interval: str | None = None,
        limit: Annotated[int, Query(ge=1, le=30)] = 8,
        threshold: Annotated[float, Query(ge=1.0, le=20.0)] = 3.0,
        min_count: Annotated[int, Query(ge=1, le=10_000)] = 5,
    ) -> dict[str, Any]:
        return cached(
            "alerts",
            f,
            lambda: insights.alerts(
                f, interval=interval, limit=limit, threshold=threshold, min_count=min_count
            ),
            interval=interval,
            limit=limit,
            threshold=threshold,
            min_count=min_count,
        )

    @app.get("/api/posts")
    def posts(
        query: Annotated[dict[str, Any], Depends(post_query)],
        page: int = 1,
        size: int = 20,
        sort: str = "recent",
    ) -> dict[str, Any]:
        page, size = parse_page(page, size, max_size=settings.max_page_size)
        return insights.search_posts(query, page=page, size=size, sort=sort)

    @app.get("/api/live")
    def live(
        f: QueryFilters, after: Annotated[str | None, Query(pattern=r"^\d{1,16}$")] = None
    ) -> dict[str, Any]:
        return insights.live(f, after=after)

    @app.get("/api/export/posts.csv")
    def export_posts(
        query: Annotated[dict[str, Any], Depends(post_query)],
        limit: Annotated[int | None, Query(ge=1)] = None,
    ) -> StreamingResponse:
        limit = min(limit or settings.max_export_rows, settings.max_export_rows)
        rows = insights.scan_posts(query, limit=limit)
        first = next(rows, None)  # run the first page now so errors become a proper status code
        cols = [
            "id",
            "created_at",
            "network",
            "lang",
            "author",
            "followers",
            "sentiment",
            "sentiment_score",
            "products",
            "aspects",
            "hashtags",
            "likes",
            "reposts",
            "replies",
            "influence",
            "flags",
            "text",
        ]

        def lines() -> Iterator[str]:
            buf = io.StringIO()
            writer = _csv_writer(buf)
            writer.writerow(cols)
            for row in _chain(first, rows):
                eng = row["engagement"]
                writer.writerow(
                    [
                        _csv_safe(v)
                        for v in (
                            row["id"],
                            row["created_at"],
                            row["network"],
                            row["lang"],
                            row["author"],
                            row["followers"],
                            row["sentiment"],
                            row["sentiment_score"],
                            " ".join(row["products"]),
                            " ".join(f"{a['aspect']}:{a['polarity']}" for a in row["aspects"]),
                            " ".join(row["hashtags"]),
                            eng.get("likes", 0),
                            eng.get("reposts", 0),
                            eng.get("replies", 0),
                            row["influence"],
                            " ".join(row["flags"]),
                            row["text"],
                        )
                    ]
                )
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
            if buf.getvalue():
                yield buf.getvalue()

        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pulse-posts.csv"'},
        )

    @app.get("/api/export/aspects.csv")
    def export_aspects(f: QueryFilters) -> Response:
        data = insights.aspects(f, quotes=0, trend=False, size=200)
        buf = io.StringIO()
        writer = _csv_writer(buf)
        writer.writerow(
            [
                "aspect",
                "name",
                "category",
                "in_taxonomy",
                "mentions",
                "posts",
                "positive",
                "neutral",
                "negative",
                "net",
                "net_ci_low",
                "net_ci_high",
                "avg_score",
            ]
        )
        for r in data["aspects"]:
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        r["aspect"],
                        r["name"],
                        r["category"],
                        r["in_taxonomy"],
                        r["mentions"],
                        r["posts"],
                        r["positive"],
                        r["neutral"],
                        r["negative"],
                        r["net"],
                        r["ci_low"],
                        r["ci_high"],
                        r["avg_score"],
                    )
                ]
            )
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pulse-aspects.csv"'},
        )

    @app.get("/api/report")
    def report(f: QueryFilters) -> HTMLResponse:
        from pulse_dashboard.report import render_report

        return HTMLResponse(render_report(insights, f))

    return app


def _chain(first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    if first is None:
        return
    yield first
    yield from rest
