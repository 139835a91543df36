"""`python -m bench.contract`: what checking a request against the OpenAPI document costs.

For the requests of the throughput benchmark's lifecycle (start an instance, complete its task)
and two listings with query parameters, the time of `app.api.contract.check_request` alone, p50
and p99 in microseconds (each call timed with `perf_counter_ns`, after untimed warm-up calls),
inside a Flask request context with the route matched, as a real request has it. Nothing is asserted
on time; the throughput benchmark (`python -m bench`) gives the whole request for comparison.

    .venv/bin/python -m bench.contract              # 20000 checks a request (about 20 s)
    .venv/bin/python -m bench.contract --calls 2000 # smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from app import create_app
from app.api import contract
from app.settings import Settings

REQUESTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/process-instances", {"process_model": "bench_one_task", "data": {"n": 1}}),
    ("POST", "/api/v1/tasks/6f1c2b9e-4e0f-4a53-9d35-1f0c9b0f7a11/complete", {"data": {"approved": True}}),
    ("GET", "/api/v1/tasks?scope=available&limit=50&offset=100", None),
    ("GET", "/api/v1/process-instances?status=running&process_model=appeal&limit=20", None),
]


def time_check(app: Any, method: str, path: str, body: dict[str, Any] | None, calls: int) -> list[int]:
    headers = {"Authorization": "Bearer benchmark"}
    with app.test_request_context(path, method=method, json=body, headers=headers):
        from flask import request

        adapter = app.url_map.bind("localhost")
        request.url_rule, request.view_args = adapter.match(request.path, method=method, return_rule=True)
        for _ in range(min(calls, 500)):
            contract.check_request()
        timings = []
        for _ in range(calls):
            started = time.perf_counter_ns()
            contract.check_request()
            timings.append(time.perf_counter_ns() - started)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contract", description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000, help="timed checks per request")
    args = parser.parse_args(argv)
    app = create_app(Settings(database_url="sqlite://", secret_key="bench-contract"))
    print(f"{'request':<72} {'p50 us':>8} {'p99 us':>8}")
    for method, path, body in REQUESTS:
        timings = sorted(time_check(app, method, path, body, args.calls))
        p50 = statistics.median(timings) / 1000
        p99 = timings[int(len(timings) * 0.99) - 1] / 1000
        print(f"{method + ' ' + path:<72} {p50:>8.1f} {p99:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
