"""Form values before any diagram reads them: formats checked, times in one zone."""

from __future__ import annotations

from app.services.work.forms import FORMAT_CHECKER, normalised_times, validation_errors

SCHEMA = {
    "type": "object",
    "properties": {
        "at": {"type": "string", "format": "date-time"},
        "on": {"type": "string", "format": "date"},
        "note": {"type": "string"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"at": {"format": "date-time"}}}},
        "inner": {"type": "object", "properties": {"at": {"format": "date-time"}}},
    },
}


def test_dates_and_times_are_checked_by_the_runtime_dependencies() -> None:
    assert {"date-time", "date"} <= set(FORMAT_CHECKER.checkers)
    fields = [e["field"] for e in validation_errors(SCHEMA, {"at": "2026-13-45T99:00", "on": "yesterday"})]
    assert fields == ["$.at", "$.on"]
    # A time without its offset is not a moment.
    assert [e["field"] for e in validation_errors(SCHEMA, {"at": "2026-03-02T10:00:00"})] == ["$.at"]


def test_times_are_written_in_the_applications_zone_at_every_depth() -> None:
    data = {
        "at": "2026-03-02T04:00:00Z",
        "on": "2026-03-02",
        "note": "2026-03-02T04:00:00Z",
        "rows": [{"at": "2026-03-02t04:00:00.75z"}],
        "inner": {"at": "2026-03-02T09:00:00+05:00"},
        "extra": "2026-03-02T04:00:00Z",
    }
    assert normalised_times(SCHEMA, data, "Asia/Almaty") == {
        "at": "2026-03-02T09:00:00+05:00",
        "on": "2026-03-02",
        "note": "2026-03-02T04:00:00Z",  # not a date-time field: left alone
        "rows": [{"at": "2026-03-02T09:00:00+05:00"}],
        "inner": {"at": "2026-03-02T09:00:00+05:00"},
        "extra": "2026-03-02T04:00:00Z",
    }
