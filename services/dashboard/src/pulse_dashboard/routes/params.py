"""The parameters every view shares, as FastAPI dependencies: the filters and the drill-down."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from pulse_dashboard.filters import Filters, parse_filters
from pulse_dashboard.state import AppState, app_state
from pulse_dashboard.views import posts

ListParam = Annotated[list[str] | None, Query()]
State = Annotated[AppState, Depends(app_state)]


def filters(
    state: State,
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
        max_range_days=state.settings.max_range_days,
    )


QueryFilters = Annotated[Filters, Depends(filters)]


def post_query(drill: Annotated[posts.DrillDown, Depends()], f: QueryFilters) -> dict[str, Any]:
    return posts.query(f, drill)


PostQuery = Annotated[dict[str, Any], Depends(post_query)]
