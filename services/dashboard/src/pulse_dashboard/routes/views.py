"""The aggregated views, each cached per filters for `PULSE_DASHBOARD_CACHE_TTL_S`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from pulse_dashboard.routes.params import QueryFilters, State

router = APIRouter()


@router.get("/api/overview")
def overview(f: QueryFilters, state: State) -> dict[str, Any]:
    return state.cached("overview", f, lambda: state.insights.overview(f))


@router.get("/api/timeline")
def timeline(f: QueryFilters, state: State, interval: str | None = None) -> dict[str, Any]:
    return state.cached("timeline", f, lambda: state.insights.timeline(f, interval), interval=interval)


@router.get("/api/aspects")
def aspects(
    f: QueryFilters, state: State, quotes: Annotated[int, Query(ge=0, le=5)] = 2, trend: bool = True
) -> dict[str, Any]:
    return state.cached(
        "aspects", f, lambda: state.insights.aspects(f, quotes=quotes, trend=trend), q=quotes, t=trend
    )


@router.get("/api/share-of-voice")
def share_of_voice(f: QueryFilters, state: State) -> dict[str, Any]:
    return state.cached("sov", f, lambda: state.insights.share_of_voice(f))


@router.get("/api/influencers")
def influencers(
    f: QueryFilters, state: State, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    return state.cached("influencers", f, lambda: state.insights.influencers(f, limit=limit), limit=limit)


@router.get("/api/emerging")
def emerging(f: QueryFilters, state: State, size: Annotated[int, Query(ge=1, le=50)] = 15) -> dict[str, Any]:
    return state.cached("emerging", f, lambda: state.insights.emerging(f, size=size), size=size)


@router.get("/api/alerts")
def alerts(
    f: QueryFilters,
    state: State,
    interval: str | None = None,
    limit: Annotated[int, Query(ge=1, le=30)] = 8,
    threshold: Annotated[float, Query(ge=1.0, le=20.0)] = 3.0,
    min_count: Annotated[int, Query(ge=1, le=10_000)] = 5,
) -> dict[str, Any]:
    return state.cached(
        "alerts",
        f,
        lambda: state.insights.alerts(
            f, interval=interval, limit=limit, threshold=threshold, min_count=min_count
        ),
        interval=interval,
        limit=limit,
        threshold=threshold,
        min_count=min_count,
    )
