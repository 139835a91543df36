"""In-process profile of the throughput workload (Flask test client, same database, cProfile).

The server runs its requests in waitress worker threads, which cProfile in the parent process
cannot see; this runs the same two requests per instance through the WSGI app in this process.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from pathlib import Path
from typing import Any

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
        {"function": label(k), "cum_ms_per_instance": round(1000 * v[3] / instances, 3)}
        for k, v in by_cum
        if "/app/" in k[0] or "SpiffWorkflow" in k[0] or "sqlalchemy/orm/session" in k[0]
    ][:25]
    by_tot = sorted(rows, key=lambda item: item[1][2], reverse=True)[:15]
    return {
        "instances": instances,
        "in_process_instances_per_s": round(instances / unprofiled, 2),
        "in_process_note": "Flask test client, no HTTP server, no profiler: the app's own cost",
        "profiled_instances_per_s": round(instances / elapsed, 2),
        "note": "in-process (test client) under cProfile: slower than unprofiled, compare shares not rates",
        "profile_total_s": round(total, 3),
        "top_cumulative_app_spiff": interesting_cum,
        "top_self_time": [
            {
                "function": label(k),
                "self_ms_per_instance": round(1000 * v[2] / instances, 3),
                "share": round(v[2] / total, 3) if total else None,
            }
            for k, v in by_tot
        ],
        "report": str(out_path),
    }
