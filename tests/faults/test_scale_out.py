"""The scale-out and fault run (tests/faults/scale_out.py) as part of the suite, on PostgreSQL:
two web servers and two schedulers under load, through a database restart, a killed server and a
scheduler cut off; every check of the run must hold."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL is not configured"
)


@pytest.mark.timeout(600)
def test_two_servers_and_two_schedulers_lose_nothing_through_faults() -> None:
    from tests.faults.scale_out import run

    server = make_url(os.environ["TEST_DATABASE_URL"]).set(database="postgres")
    result = run(server.render_as_string(hide_password=False), seconds=40, threads=6)
    print(result["figures"])  # shown with -s, and in the report of a failure
    assert result["problems"] == []
    figures = result["figures"]
    assert figures["completions answered 2xx"] > 50  # the load did run
    assert set(figures["faults"]) == {"database restart", "web server killed", "scheduler cut off"}
