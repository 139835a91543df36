"""(a) Throughput: one-user-task instances started, completed and finished.

Through the HTTP API of a real server, and, as the baseline of the same run, raw SpiffWorkflow
doing the equivalent work in memory (create, run, serialize, deserialize, complete, run, serialize).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import JsonClient
from .server import Server
from .stats import summarize_ms

FIXTURE = Path(__file__).with_name("one_task.bpmn")
WARMUP_PER_CLIENT = 10
PROCESS_ID = "bench_one_task"
GROUP = "bench"
USERNAME = "bench.user"
PASSWORD = "bench-password-1"


# --- raw SpiffWorkflow baseline ------------------------------------------------------------------


def raw_spiff(instances: int, warmup: int = 20) -> dict[str, Any]:
    """Instances/s of SpiffWorkflow alone: parse once, then per instance the full round trip."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(FIXTURE))
    spec = parser.get_spec(PROCESS_ID)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_ID)
    # BpmnWorkflowSerializer takes a registry: configure() turns SPIFF_CONFIG into one.
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    phases = {
        "create_run": 0.0,
        "serialize_1": 0.0,
        "deserialize": 0.0,
        "complete_run": 0.0,
        "serialize_2": 0.0,
    }
    sizes = []

    def one(timed: bool) -> None:
        t0 = time.perf_counter()
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.do_engine_steps()
        t1 = time.perf_counter()
        state = serializer.serialize_json(workflow)
        t2 = time.perf_counter()
        restored = serializer.deserialize_json(state)
        t3 = time.perf_counter()
        ready = restored.get_tasks(state=TaskState.READY, manual=True)
        assert len(ready) == 1, ready
        ready[0].data.update({"approved": True})
        ready[0].run()
        restored.do_engine_steps()
        t4 = time.perf_counter()
        final = serializer.serialize_json(restored)
        t5 = time.perf_counter()
        assert restored.is_completed()
        if timed:
            for key, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                phases[key] += value
            sizes.append(len(final))

    for _ in range(warmup):
        one(False)
    started = time.perf_counter()
    for _ in range(instances):
        one(True)
    elapsed = time.perf_counter() - started
    return {
        "instances": instances,
        "seconds": round(elapsed, 4),
        "instances_per_s": round(instances / elapsed, 2),
        "ms_per_instance": round(1000 * elapsed / instances, 3),
        "phase_ms": {k: round(1000 * v / instances, 3) for k, v in phases.items()},
        "state_json_bytes": sizes[-1] if sizes else None,
    }


# --- through the API -----------------------------------------------------------------------------


@dataclass
class BenchWorld:
    admin_token: str
    user_token: str
    deploy: dict[str, Any]


def prepare_world(server: Server, admin_password: str) -> BenchWorld:
    """Create the group and user through the API, deploy bench/one_task.bpmn (multipart)."""
    with server.client() as client:
        admin_token = client.sign_in("admin", admin_password)
        client.post(
            "/api/v1/users",
            {
                "username": USERNAME,
                "password": PASSWORD,
                "display_name": "Bench user",
                "groups": [GROUP],
                "language": "en",
            },
            expect=(201,),
        )
        deploy = client.post_files("/api/v1/process-models", "files", {FIXTURE.name: FIXTURE.read_bytes()})
        user_token = client.sign_in(USERNAME, PASSWORD)
    return BenchWorld(admin_token, user_token, deploy)


def _one_instance(client: JsonClient, starts: list[float], completes: list[float]) -> None:
    t0 = time.perf_counter()
    started = client.post(
        "/api/v1/process-instances", {"process_model": PROCESS_ID, "data": {"n": 1}}, expect=(201,)
    )
    t1 = time.perf_counter()
    tasks = started.get("tasks") or []
    if started.get("status") != "running" or len(tasks) != 1:
        raise RuntimeError(f"unexpected start response: {started!r}"[:1000])
    done = client.post(
        f"/api/v1/tasks/{tasks[0]['id']}/complete", {"data": {"approved": True}}, expect=(200,)
    )
    t2 = time.perf_counter()
    if done.get("status") != "complete":
        raise RuntimeError(f"instance {started['id']} did not finish: {done!r}"[:1000])
    starts.append(t1 - t0)
    completes.append(t2 - t1)


def api_throughput(
    server: Server,
    token: str,
    instances: int,
    threads: int = 1,
    warmup: int = 10,
    samples: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """Instances/s through the API with `threads` clients; each instance's two requests share a
    connection."""
    with server.client(token) as client:
        for _ in range(warmup):
            _one_instance(client, [], [])

    starts: list[list[float]] = [[] for _ in range(threads)]
    completes: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    share = [instances // threads + (1 if i < instances % threads else 0) for i in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        with server.client(token) as client:
            barrier.wait()
            try:
                for _ in range(share[index]):
                    _one_instance(client, starts[index], completes[index])
                    # Each instance on a connection of its own, as many users' requests arrive: a
                    # connection stays with the server process that accepted it, and a few
                    # long-lived ones mostly land on one process while the other idles.
                    client.close()
            except BaseException as exc:
                errors.append(exc)

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    barrier.wait()
    t0 = time.perf_counter()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} client thread(s) failed; first: {errors[0]}") from errors[0]
    all_starts = [s for part in starts for s in part]
    all_completes = [c for part in completes for c in part]
    if samples is not None:
        samples.setdefault("start", []).extend(all_starts)
        samples.setdefault("complete", []).extend(all_completes)
    return {
        "instances": instances,
        "threads": threads,
        "seconds": round(elapsed, 4),
        "instances_per_s": round(instances / elapsed, 2),
        "ms_per_instance": round(1000 * elapsed / instances, 3),
        "start_request": summarize_ms(all_starts),
        "complete_request": summarize_ms(all_completes),
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measure(
    server: Server, token: str, instances: int, threads: int, rounds: int, log: Any = print
) -> dict[str, Any]:
    """Interleaved rounds of raw SpiffWorkflow, the API with one client and with `threads` clients,
    so that the ratios compare figures taken seconds apart (other load on the machine drifts)."""
    per_round = [instances // rounds + (1 if i < instances % rounds else 0) for i in range(rounds)]
    runs: dict[str, list[dict[str, Any]]] = {"raw": [], "one": [], "many": []}
    samples: dict[str, dict[str, list[float]]] = {"one": {}, "many": {}}
    # Untimed: every server process warms up (its caches, its pooled connections) before the
    # first round, as raw SpiffWorkflow does before each of its runs.
    api_throughput(server, token, WARMUP_PER_CLIENT * threads, threads, warmup=0)
    for index, count in enumerate(per_round):
        runs["raw"].append(raw_spiff(count))
        runs["one"].append(api_throughput(server, token, count, 1, warmup=0, samples=samples["one"]))
        runs["many"].append(api_throughput(server, token, count, threads, warmup=0, samples=samples["many"]))
        log(
            f"round {index + 1}/{rounds}: raw {runs['raw'][-1]['instances_per_s']:.0f}/s, "
            f"API 1 client {runs['one'][-1]['instances_per_s']:.1f}/s, "
            f"{threads} clients {runs['many'][-1]['instances_per_s']:.1f}/s"
        )

    def combined(name: str) -> dict[str, Any]:
        total = sum(r["instances"] for r in runs[name])
        seconds = sum(r["seconds"] for r in runs[name])
        return {
            "instances": total,
            "seconds": round(seconds, 4),
            "instances_per_s": round(total / seconds, 2),
            "ms_per_instance": round(1000 * seconds / total, 3),
            "per_round_instances_per_s": [r["instances_per_s"] for r in runs[name]],
        }

    raw = combined("raw")
    raw["phase_ms"] = {
        key: round(sum(r["phase_ms"][key] * r["instances"] for r in runs["raw"]) / raw["instances"], 3)
        for key in runs["raw"][0]["phase_ms"]
    }
    raw["state_json_bytes"] = runs["raw"][-1]["state_json_bytes"]
    result: dict[str, Any] = {"rounds": rounds, "raw_spiff": raw}
    for name, label, n_threads in (("one", "api_1_client", 1), ("many", f"api_{threads}_clients", threads)):
        ratios = [
            a["instances_per_s"] / r["instances_per_s"] for a, r in zip(runs[name], runs["raw"], strict=True)
        ]
        result[label] = {
            **combined(name),
            "threads": n_threads,
            "ratio_to_raw": round(_median(ratios), 4),
            "ratio_per_round": [round(x, 4) for x in ratios],
            "start_request": summarize_ms(samples[name]["start"]),
            "complete_request": summarize_ms(samples[name]["complete"]),
        }
    return result
