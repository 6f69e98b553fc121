"""The parameters every view shares, as FastAPI dependencies: the filters and the drill-down."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from pulse_dashboard.filters import POLARITIES, Filters, ParamError, parse_filters, parse_ids
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
    return posts.query(
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


PostQuery = Annotated[dict[str, Any], Depends(post_query)]
