"""In-process profiles (Flask test client, same database, cProfile) of the throughput workload and
of the web inbox page.

The server runs its requests in granian worker processes, which cProfile in the parent process
cannot see; this runs the same requests through the WSGI app in this process.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from pathlib import Path
from typing import Any

from .client import CSRF_FIELD
from .inbox import INBOX_USER, PAGE_VIEWS, check_page
from .inbox import PASSWORD as INBOX_PASSWORD
from .throughput import PASSWORD, PROCESS_ID, USERNAME


def profile_instances(database_url: str, secret_key: str, instances: int, out_path: Path) -> dict[str, Any]:
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=database_url, secret_key=secret_key))
    client = app.test_client()
    try:
        token = client.post(
            "/api/v1/auth/token", json={"username": USERNAME, "password": PASSWORD}
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def one() -> None:
            started = client.post(
                "/api/v1/process-instances",
                headers=headers,
                json={"process_model": PROCESS_ID, "data": {"n": 1}},
            )
            assert started.status_code == 201, started.get_data(as_text=True)
            task_id = started.get_json()["tasks"][0]["id"]
            done = client.post(
                f"/api/v1/tasks/{task_id}/complete", headers=headers, json={"data": {"approved": True}}
            )
            assert done.status_code == 200 and done.get_json()["status"] == "complete", done.get_data(
                as_text=True
            )

        for _ in range(10):
            one()
        t0 = time.perf_counter()
        for _ in range(instances):
            one()
        unprofiled = time.perf_counter() - t0
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        for _ in range(instances):
            one()
        profiler.disable()
        elapsed = time.perf_counter() - t0
    finally:
        app.extensions["db_engine"].dispose()

    summary = _summarize(
        profiler, instances, "instance", out_path, ("/app/", "SpiffWorkflow", "sqlalchemy/orm/session")
    )
    summary["top_cumulative_app_spiff"] = summary.pop("top_cumulative")
    return {
        "instances": instances,
        "in_process_instances_per_s": round(instances / unprofiled, 2),
        "in_process_note": "Flask test client, no HTTP server, no profiler: the app's own cost",
        "profiled_instances_per_s": round(instances / elapsed, 2),
        "note": "in-process (test client) under cProfile: slower than unprofiled, compare shares not rates",
        **summary,
    }


def _summarize(
    profiler: cProfile.Profile, n: int, unit: str, out_path: Path, interesting: tuple[str, ...]
) -> dict[str, Any]:
    """Write the report (40 top rows by cumulative and by self time) and return the top rows per
    `unit` (cumulative: only functions whose file matches one of `interesting`)."""
    stats = pstats.Stats(profiler)
    buffer = io.StringIO()
    for order in ("cumulative", "tottime"):
        buffer.write(f"==== sorted by {order} ====\n")
        pstats.Stats(profiler, stream=buffer).sort_stats(order).print_stats(40)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(buffer.getvalue())

    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]

    def label(key: tuple[str, int, str]) -> str:
        file, line, func = key
        marker = "/site-packages/"
        short = file.split(marker, 1)[1] if marker in file else file.replace(str(Path.cwd()) + "/", "")
        return f"{short}:{line}({func})"

    rows = stats.stats.items()  # type: ignore[attr-defined]
    by_cum = sorted(rows, key=lambda item: item[1][3], reverse=True)
    interesting_cum = [
        {"function": label(k), f"cum_ms_per_{unit}": round(1000 * v[3] / n, 3)}
        for k, v in by_cum
        if any(part in k[0] for part in interesting)
    ][:25]
    by_tot = sorted(rows, key=lambda item: item[1][2], reverse=True)[:15]
    return {
        "profile_total_s": round(total, 3),
        "top_cumulative": interesting_cum,
        "top_self_time": [
            {
                "function": label(k),
                f"self_ms_per_{unit}": round(1000 * v[2] / n, 3),
                "share": round(v[2] / total, 3) if total else None,
            }
            for k, v in by_tot
        ],
        "report": str(out_path),
    }


def profile_inbox_page(
    database_url: str, secret_key: str, requests: int, out_dir: Path, kind: str
) -> dict[str, Any]:
    """The web inbox page of the seeded inbox user, per view: signed in through the sign-in form
    of the test client, timed without and then with cProfile (report per view in `out_dir`)."""
    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=database_url, secret_key=secret_key))
    client = app.test_client()
    results: dict[str, Any] = {}
    try:
        login = client.get("/login")
        token = CSRF_FIELD.search(login.get_data(as_text=True))
        assert login.status_code == 200 and token, login.status_code
        signed = client.post(
            "/login",
            data={
                "csrf_token": token.group(1),
                "next": "",
                "username": INBOX_USER,
                "password": INBOX_PASSWORD,
            },
        )
        assert signed.status_code in (302, 303), signed.get_data(as_text=True)[:500]
        for view, path in PAGE_VIEWS.items():

            def one(view: str = view, path: str = path) -> None:
                answer = client.get(path)
                check_page(view, answer.status_code, answer.get_data(as_text=True))

            for _ in range(10):
                one()
            t0 = time.perf_counter()
            for _ in range(requests):
                one()
            unprofiled = time.perf_counter() - t0
            profiler = cProfile.Profile()
            t0 = time.perf_counter()
            profiler.enable()
            for _ in range(requests):
                one()
            profiler.disable()
            elapsed = time.perf_counter() - t0
            summary = _summarize(
                profiler,
                requests,
                "request",
                out_dir / f"profile-inbox-page-{view}-{kind}.txt",
                (
                    "/app/",
                    "jinja2/",
                    "flask_babel/",
                    "babel/",
                    "sqlalchemy/orm/session",
                    "sqlalchemy/engine/base",
                ),
            )
            results[view] = {
                "path": path,
                "requests": requests,
                "in_process_ms_per_request": round(1000 * unprofiled / requests, 3),
                "in_process_note": "Flask test client, no HTTP server, no profiler (includes the page check)",
                "profiled_ms_per_request": round(1000 * elapsed / requests, 3),
                **summary,
            }
    finally:
        app.extensions["db_engine"].dispose()
    return results
