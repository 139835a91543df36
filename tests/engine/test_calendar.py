"""Expected dates below were worked out by hand from the 2025-2027 calendars and the holiday law
(Nauryz 21-23 March; a holiday on a weekend moves to the next working day), not from the code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from app.engine.calendar import WorkingCalendar

ALMATY = ZoneInfo("Asia/Almaty")


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def test_nauryz_2025_friday_to_tuesday(cal: WorkingCalendar) -> None:
    # 21 March 2025 is a Friday; 22-23 fall on the weekend and move to Mon 24 and Tue 25.
    assert cal.is_working_day(date(2025, 3, 20))
    for day in range(21, 26):
        assert not cal.is_working_day(date(2025, 3, day)), day
    assert cal.is_working_day(date(2025, 3, 26))
    assert cal.next_working_day(date(2025, 3, 21)) == date(2025, 3, 26)


def test_nauryz_2026_saturday_to_wednesday(cal: WorkingCalendar) -> None:
    # 21 March 2026 is a Saturday: 21, 22 (weekend) move to Tue 24 and Wed 25, 23 is a Monday.
    assert cal.is_working_day(date(2026, 3, 20))
    for day in range(21, 26):
        assert not cal.is_working_day(date(2026, 3, day)), day
    assert cal.next_working_day(date(2026, 3, 21)) == date(2026, 3, 26)
    # 8 March 2026 is a Sunday: the day off is Monday the 9th.
    assert not cal.is_working_day(date(2026, 3, 9))
    assert cal.is_working_day(date(2026, 3, 10))


def test_government_transfer_known_to_the_package(cal: WorkingCalendar) -> None:
    # 2025 decree: Friday 3 January off, Sunday 5 January worked instead.
    assert not cal.is_working_day(date(2025, 1, 3))
    assert cal.is_working_day(date(2025, 1, 5))
    assert not cal.is_working_day(date(2025, 1, 4))


def test_fifteen_working_days_across_nauryz(cal: WorkingCalendar) -> None:
    # From Wed 19 March 2025: Thu 20 is day 1, 21-25 are off, then 26, 27, 28, 31 March,
    # 1-4 April, 7-11 April (days 2-14) and Monday 14 April is day 15.
    assert cal.add_working_days(date(2025, 3, 19), 15) == date(2025, 4, 14)
    assert cal.working_days_between(date(2025, 3, 19), date(2025, 4, 14)) == 15
    assert cal.working_days_between(date(2025, 4, 14), date(2025, 3, 19)) == -15
    assert cal.working_days_between(date(2025, 3, 21), date(2025, 3, 25)) == 0
    # Days are counted from the next day even when the start is a day off.
    assert cal.add_working_days(date(2025, 3, 22), 1) == date(2025, 3, 26)


def test_add_zero_working_days(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2025, 3, 20), 0) == date(2025, 3, 20)
    assert cal.add_working_days(date(2025, 3, 21), 0) == date(2025, 3, 26)
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 3, 20), -1)


def test_datetime_arguments_count_as_their_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(datetime(2025, 3, 19, 17, 0), 1) == date(2025, 3, 20)


def test_registration_friday_evening_is_monday(cal: WorkingCalendar) -> None:
    friday_evening = datetime(2025, 4, 11, 19, 5, tzinfo=ALMATY)
    assert cal.registration_date(friday_evening) == date(2025, 4, 14)
    # Closing time itself is after hours; one minute before is not.
    assert cal.registration_date(datetime(2025, 4, 11, 18, 30, tzinfo=ALMATY)) == date(2025, 4, 14)
    assert cal.registration_date(datetime(2025, 4, 11, 18, 29, tzinfo=ALMATY)) == date(2025, 4, 11)
    # 14:00 UTC is 19:00 or later in Almaty, whichever offset the tz database has.
    assert cal.registration_date(datetime(2025, 4, 11, 14, 0, tzinfo=UTC)) == date(2025, 4, 14)


def test_registration_early_morning_weekend_and_holiday(cal: WorkingCalendar) -> None:
    assert cal.registration_date(datetime(2025, 4, 14, 7, 30, tzinfo=ALMATY)) == date(2025, 4, 14)
    assert cal.registration_date(datetime(2025, 4, 12, 10, 0, tzinfo=ALMATY)) == date(2025, 4, 14)
    assert cal.registration_date(datetime(2025, 3, 24, 10, 0, tzinfo=ALMATY)) == date(2025, 3, 26)
    # Thursday 20 March 2025 after hours: Friday to Tuesday is Nauryz.
    assert cal.registration_date(datetime(2025, 3, 20, 20, 0, tzinfo=ALMATY)) == date(2025, 3, 26)
    late_close = (time(9, 0), time(20, 0))
    evening = datetime(2025, 4, 11, 19, 5, tzinfo=ALMATY)
    assert cal.registration_date(evening, office_hours=late_close) == date(2025, 4, 11)
    with pytest.raises(ValueError):
        cal.registration_date(datetime(2025, 4, 11, 10, 0))


def test_admin_transfer_for_a_year_the_package_does_not_know() -> None:
    # 2027: Thu 7 January is Orthodox Christmas. Suppose a decree makes Friday 8 January a day
    # off and Saturday 9 January a working day.
    plain = WorkingCalendar()
    assert plain.add_working_days(date(2027, 1, 6), 1) == date(2027, 1, 8)
    cal = WorkingCalendar(extra_holidays=[date(2027, 1, 8)], extra_working_days=[date(2027, 1, 9)])
    assert not cal.is_working_day(date(2027, 1, 8))
    assert cal.is_working_day(date(2027, 1, 9))
    assert not cal.is_working_day(date(2027, 1, 10))
    assert cal.add_working_days(date(2027, 1, 6), 1) == date(2027, 1, 9)
    assert cal.add_working_days(date(2027, 1, 6), 2) == date(2027, 1, 11)
    assert cal.registration_date(datetime(2027, 1, 9, 11, 0, tzinfo=ALMATY)) == date(2027, 1, 9)


def test_a_date_cannot_be_both_holiday_and_working_day() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(extra_holidays=[date(2027, 1, 8)], extra_working_days=[date(2027, 1, 8)])
