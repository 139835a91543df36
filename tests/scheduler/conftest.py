"""Helpers for the scheduler tests: the timer fixtures deployed, waiting on the database."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.db.models import AuditRecord
from tests.conftest import TIMER_KINDS

KINDS = TIMER_KINDS


@pytest.fixture
def admin(timer_models):
    return timer_models


def fired_count(ctx) -> int:
    with ctx.uow() as uow:
        return uow.session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "timer.fired")
        )


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
