"""The posts: drill-down and search, the live feed, and the CSV exports (bounded)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from pulse_dashboard import exports
from pulse_dashboard.filters import parse_page
from pulse_dashboard.routes.params import PostQuery, QueryFilters, State

router = APIRouter()


@router.get("/api/posts")
def posts(
    query: PostQuery, state: State, page: int = 1, size: int = 20, sort: str = "recent"
) -> dict[str, Any]:
    page, size = parse_page(page, size, max_size=state.settings.max_page_size)
    return state.insights.search_posts(query, page=page, size=size, sort=sort)


@router.get("/api/live")
def live(
    f: QueryFilters, state: State, after: Annotated[str | None, Query(pattern=r"^\d{1,16}$")] = None
) -> dict[str, Any]:
    return state.insights.live(f, after=after)


@router.get("/api/export/posts.csv")
def export_posts(
    query: PostQuery, state: State, limit: Annotated[int | None, Query(ge=1)] = None
) -> StreamingResponse:
    limit = min(limit or state.settings.max_export_rows, state.settings.max_export_rows)
    rows = state.insights.scan_posts(query, limit=limit)
    first = next(rows, None)  # run the first page now so errors become a proper status code

    def all_rows():
        if first is not None:
            yield first
            yield from rows

    return StreamingResponse(
        exports.posts_csv(all_rows()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pulse-posts.csv"'},
    )


@router.get("/api/export/aspects.csv")
def export_aspects(f: QueryFilters, state: State) -> Response:
    data = state.insights.aspects(f, quotes=0, trend=False, size=200)
    return Response(
        exports.aspects_csv(data["aspects"]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="pulse-aspects.csv"'},
    )
