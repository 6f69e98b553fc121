"""The dashboard's routes, one APIRouter per area: the page and operations, the aggregated views, the
posts (drill-down, live, exports)."""
