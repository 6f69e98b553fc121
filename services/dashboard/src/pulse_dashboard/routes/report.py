"""The one-page HTML report of the filtered range (what `pulse-report` writes to a file)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from pulse_dashboard.report import render_report
from pulse_dashboard.routes.params import QueryFilters, State

router = APIRouter()


@router.get("/api/report")
def report(f: QueryFilters, state: State) -> HTMLResponse:
    return HTMLResponse(render_report(state.insights, f))
