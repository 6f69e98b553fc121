from datetime import UTC, datetime, timedelta, timezone

from pulse_common.contracts import search as naming


def test_a_post_goes_to_the_index_of_its_utc_creation_month():
    assert naming.index_for("pulse-posts", "2026-11-26T10:00:00Z") == "pulse-posts-2026.11"
    assert naming.index_for("pulse-posts", datetime(2026, 1, 5, tzinfo=UTC)) == "pulse-posts-2026.01"


def test_the_month_is_taken_in_utc_whatever_the_offset_of_the_timestamp():
    # 2026-12-01 01:00 at +02:00 is still November in UTC
    assert naming.index_for("a", "2026-12-01T01:00:00+02:00") == "a-2026.11"
    local = datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert naming.month_suffix(local) == "2026.11"


def test_a_naive_timestamp_is_read_as_utc():
    assert naming.index_for("a", "2025-03-31T23:59:59") == "a-2025.03"


def test_the_template_pattern_covers_every_monthly_index_of_the_alias():
    import fnmatch

    pattern = naming.index_pattern("t-posts-1")
    assert fnmatch.fnmatch(naming.index_for("t-posts-1", "2024-02-29T00:00:00Z"), pattern)
    assert naming.template_name("t-posts-1") == "t-posts-1-template"


def test_indices_between_lists_each_month_of_a_range_across_a_year_end():
    names = naming.indices_between("p", "2025-11-15T00:00:00Z", "2026-02-01T00:00:00Z")
    assert names == ["p-2025.11", "p-2025.12", "p-2026.01", "p-2026.02"]
    assert naming.indices_between("p", "2026-02-01T00:00:00Z", "2025-12-31T00:00:00Z") == [
        "p-2025.12",
        "p-2026.01",
        "p-2026.02",
    ]
