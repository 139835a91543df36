"""`python -m bench.editor`: the editor's figures on this machine, SQLite, in process.

- the editor page for `appeal` in headless Chromium (Debian's /usr/bin/chromium), from navigation
  to the diagram drawn with its properties panel and ready to edit: p50/p95 of `--loads` loads
  (target: under 1 s p95);
- the server's validation of the appeal's files (the deploy checks, diagram code compiled and its
  timers evaluated in sandbox workers): p50/p95 (target: under 300 ms p95); the baseline in the
  same run: raw SpiffWorkflow parsing the same BPMN in memory;
- the form preview of the appeal's registration form, and its "try submit": p50/p95 (target: under
  100 ms p95);
- the editor bundle's sizes, raw and gzipped (target: under 2 MB gzipped loaded at first).

Writes bench/results/editor.json. Nothing is asserted on time.

    .venv/bin/python -m bench.editor                 # about 1 minute
    .venv/bin/python -m bench.editor --requests 10 --loads 3   # smoke run
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tempfile
import threading
import time
from typing import Any

from .operations import RESULTS, _app
from .server import PROJECT_ROOT
from .stats import summarize_ms

BUNDLE = PROJECT_ROOT / "app" / "web" / "static" / "vendor" / "editor"


def _client(app: Any) -> Any:
    from tests.web.conftest import Browser

    client = Browser(app.test_client())
    client.login("admin", "bench-password-1")
    client.get("/inbox")
    return client


def _seed(ctx: Any) -> None:
    from app.services.modelling import deployments
    from app.services.people import users

    users.ensure_groups(ctx, {**users.PROCEDURE_GROUPS, "analysts": "Analysts", "admins": "Administrators"})
    users.create_user(
        ctx, users.SYSTEM, username="admin", password="bench-password-1", groups=["admins", "analysts"]
    )
    deployments.deploy_folders(ctx, users.SYSTEM, PROJECT_ROOT / "bpmn", PROJECT_ROOT / "forms")


def _timed(run: Any, count: int, warmup: int = 2) -> dict[str, Any]:
    samples = []
    for i in range(count + warmup):
        began = time.perf_counter()
        run()
        if i >= warmup:
            samples.append(time.perf_counter() - began)
    return summarize_ms(samples)


def _appeal_files(client: Any) -> dict[str, str]:
    page = client.get("/editor/appeal").get_data(as_text=True)
    found = re.search(r'id="editor-config">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))["files"]


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    response = client.client.post(path, json=body, headers={"X-CSRF-Token": client.token})
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return response.get_json()


def server_figures(app: Any, requests: int) -> dict[str, Any]:
    from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

    client = _client(app)
    files = _appeal_files(client)
    checked = _post(client, "/editor/api/validate", {"files": files})
    if not checked["valid"]:
        raise RuntimeError(f"appeal does not validate: {checked['problems'][:3]}")
    appeal = files["appeal.bpmn"].encode()

    def raw_parse() -> None:
        parser = SpiffBpmnParser(validator=VALIDATOR)
        parser.add_bpmn_str(appeal, "appeal.bpmn")
        parser.get_spec("appeal")

    form = {
        "schema": files["appeal_registration.schema.json"],
        "ui_schema": files.get("appeal_registration.uischema.json"),
        "lang": "kk",
        "data": {},
    }
    return {
        "validate appeal (server)": _timed(
            lambda: _post(client, "/editor/api/validate", {"files": files}), requests
        ),
        "baseline: raw SpiffWorkflow parse of appeal.bpmn": _timed(raw_parse, requests),
        "form preview": _timed(lambda: _post(client, "/editor/api/form-preview", form), requests * 3),
        "form preview, try submit": _timed(
            lambda: _post(client, "/editor/api/form-preview", form | {"submit": True}), requests * 3
        ),
        "editor page (server render)": _timed(lambda: client.get("/editor/appeal"), requests),
    }


def _serve(app: Any) -> tuple[str, Any]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def browser_figures(app: Any, loads: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    url, server = _serve(app)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{url}/login")
            page.fill("#username", "admin")
            page.fill("#password", "bench-password-1")
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_load_state()
            samples = []
            for i in range(loads + 1):
                began = time.perf_counter()
                page.goto(f"{url}/editor/appeal")
                page.wait_for_function(
                    "() => window.editorApp && window.editorApp.modeler"
                    " && document.querySelectorAll('.djs-shape').length > 20"
                    " && document.querySelector('.bio-properties-panel')",
                    timeout=30_000,
                    polling=20,
                )
                if i:  # the first load fills the browser's cache
                    samples.append(time.perf_counter() - began)
            browser.close()
    finally:
        server.shutdown()
    return {"editor page ready to edit (Chromium, appeal.bpmn)": summarize_ms(samples)}


def bundle_sizes() -> dict[str, Any]:
    """Each built file's size, and what the editor page loads before the diagram is drawn: its
    script and style and the shared chunks (the DMN chunk and its style load when a table opens)."""
    sizes = {}
    for path in sorted(BUNDLE.rglob("*")):
        if path.is_file() and not path.name.endswith(".LEGAL.txt"):
            content = path.read_bytes()
            name = str(path.relative_to(BUNDLE))
            sizes[name] = {"bytes": len(content), "gzip_bytes": len(gzip.compress(content, 9))}
    initial = [n for n in sizes if n in ("editor.js", "editor.css") or n.startswith("chunks/chunk-")]
    return {"files": sizes, "initial_gzip_bytes": sum(sizes[n]["gzip_bytes"] for n in initial)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        app = _app(f"sqlite:///{folder}/editor.sqlite3")
        _seed(app.extensions["services"])
        results = {
            "server": server_figures(app, args.requests),
            "browser": browser_figures(app, args.loads),
            "bundle": bundle_sizes(),
        }
    server = results["server"]
    ratio = (
        server["validate appeal (server)"]["p50_ms"]
        / server["baseline: raw SpiffWorkflow parse of appeal.bpmn"]["p50_ms"]
    )
    results["ratios"] = {"validate / raw parse (p50)": round(ratio, 2)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "editor.json").write_text(json.dumps(results, indent=2) + "\n")
    for section in ("server", "browser"):
        for name, figures in results[section].items():
            print(f"{name:60} p50 {figures['p50_ms']:8.1f} ms   p95 {figures['p95_ms']:8.1f} ms")
    for name, size in results["bundle"]["files"].items():
        print(f"{name:60} {size['bytes'] / 1024:8.0f} KiB   gzip {size['gzip_bytes'] / 1024:7.0f} KiB")
    print(f"editor page, initial load: {results['bundle']['initial_gzip_bytes'] / 1024:.0f} KiB gzip")
    print(json.dumps(results["ratios"]))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
