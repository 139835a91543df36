"""`python -m bench.scripts`: what evaluating diagram code in sandbox workers costs.

1. Per evaluation: p50/p99 (microseconds, each call timed with `perf_counter_ns`) of
   `SandboxEnvironment.evaluate` of an expression that goes to a worker, `.execute` of a 3-line
   script, and `.evaluate` of a simple condition (evaluated in the server: `simple_expressions`),
   on `shared_pool(Limits())` warmed by untimed calls; baseline of the same run: the same calls on
   SpiffWorkflow's unsandboxed `TaskDataEnvironment`. Both get the server's diagram functions.
   Target: <= 150 us per worker evaluation at p50.
2. Lifecycle: bench/scripts_process.bpmn (10 script tasks, 10 gateway conditions, 5 of them
   simple), parsed once; per instance: create, `do_engine_steps` to the end, serialize. Instances/s
   with the sandboxed script engine and with SpiffWorkflow's default engine, in interleaved rounds;
   ratio = median over rounds of sandboxed/raw. Nothing is asserted on time.

Writes bench/results/scripts.json. Examples:
    .venv/bin/python -m bench.scripts              # defaults (about a minute)
    .venv/bin/python -m bench.scripts --quick      # smoke run (about 15 s)
    .venv/bin/python -m bench.scripts --rounds 7 --instances 2000 --evaluations 50000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.engine.calendar import WorkingCalendar
from app.engine.clock import SystemClock
from app.engine.functions import diagram_functions
from app.engine.sandbox_pool import Limits, shared_pool
from app.engine.scripting import SandboxEnvironment, make_script_engine
from app.engine.simple_expressions import simple_expression

from .stats import percentile

RESULTS_DIR = Path(__file__).with_name("results")
BPMN = Path(__file__).with_name("scripts_process.bpmn")
PROCESS_ID = "scripts_bench"
P50_TARGET_US = 150.0
WARMUP_EVALUATIONS = 300
WARMUP_INSTANCES = 20
DEFAULTS = {"rounds": 5, "instances": 5000, "evaluations": 20_000}
QUICK = {"rounds": 3, "instances": 1500, "evaluations": 5000}
DATA = {"amount": 12, "items": [1, 2, 3], "decision": "agree", "applicant": "A. Applicant"}
SCRIPT = 'total = amount * 2\ncount = len(items)\nsummary = {"total": total, "count": count}'
# (label, operation, source)
CASES = [
    ("eval  amount * 2 + len(items)", "evaluate", "amount * 2 + len(items)"),
    ("exec  3-line script -> dict", "execute", SCRIPT),
    ("eval  decision == 'agree'", "evaluate", "decision == 'agree'"),
]


def _summary_us(ns: list[int]) -> dict[str, float]:
    us = [n / 1000 for n in ns]
    return {
        "n": len(us),
        "p50_us": round(percentile(us, 50), 2),
        "p99_us": round(percentile(us, 99), 2),
        "mean_us": round(sum(us) / len(us), 2),
        "max_us": round(max(us), 2),
        "over_1ms": sum(u > 1000 for u in us),  # among them: starting a worker, every `uses_per_worker`
    }


def _caller(env: Any, op: str, source: str) -> Callable[[dict[str, Any]], Any]:
    if op == "evaluate":
        return lambda data: env.evaluate(source, data)
    return lambda data: env.execute(source, data) and data  # execute returns True


def _time_calls(call: Callable[[dict[str, Any]], Any], count: int, expected: Any) -> list[int]:
    samples = []
    for _ in range(count):
        data = dict(DATA, items=list(DATA["items"]))  # a fresh copy: execute changes its data
        t0 = time.perf_counter_ns()
        result = call(data)
        samples.append(time.perf_counter_ns() - t0)
        if result != expected:
            raise AssertionError(f"unexpected result {result!r}, expected {expected!r}")
    return samples


def measure_evaluations(evaluations: int, functions: dict[str, Callable[..., Any]]) -> dict[str, Any]:
    """Sandbox and raw timings of each case; the sandbox must give the raw result."""
    envs = {
        "sandbox": SandboxEnvironment(shared_pool(Limits()), functions),
        "raw": TaskDataEnvironment(dict(functions)),
    }
    results: dict[str, Any] = {}
    for label, op, source in CASES:
        calls = {name: _caller(env, op, source) for name, env in envs.items()}
        expected = calls["raw"](dict(DATA, items=list(DATA["items"])))
        timed = {}
        for name, call in calls.items():
            _time_calls(call, WARMUP_EVALUATIONS, expected)
            timed[name] = _summary_us(_time_calls(call, evaluations, expected))
        in_process = op == "evaluate" and simple_expression(source) is not None
        results[label] = {
            "operation": op,
            "source": source,
            "path": "in-process" if in_process else "worker",
            **timed,
            "overhead_p50_us": round(timed["sandbox"]["p50_us"] - timed["raw"]["p50_us"], 2),
        }
    return results


def measure_lifecycle(
    rounds: int, instances: int, functions: dict[str, Callable[..., Any]], log: Callable[[str], None]
) -> dict[str, Any]:
    """Instances/s of create + run to the end + serialize, sandboxed and raw, interleaved."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec, subprocess_specs = parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    engines: dict[str, Any] = {"raw": None, "sandboxed": make_script_engine(shared_pool(Limits()), functions)}

    def run(engine: Any, count: int) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        for _ in range(count):
            workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)  # None: the default
            workflow.do_engine_steps()
            serializer.serialize_json(workflow)
        elapsed = time.perf_counter() - started
        # Checked after the clock stopped, on the last instance: the chain ran to `end`.
        ends = {t.task_spec.name for t in workflow.get_tasks(state=TaskState.COMPLETED)}
        if not workflow.is_completed() or "end" not in ends or "off_path" in ends:
            raise AssertionError(f"the instance did not run to `end`: {sorted(ends)}")
        return elapsed, workflow.data

    finals = {name: run(engine, WARMUP_INSTANCES)[1] for name, engine in engines.items()}
    if finals["raw"] != finals["sandboxed"]:
        raise AssertionError(f"different final data: {finals}")
    per_round = [instances // rounds + (1 if i < instances % rounds else 0) for i in range(rounds)]
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    for index, count in enumerate(per_round):
        for name in sorted(engines, reverse=index % 2 == 1):  # who goes first alternates
            seconds[name].append(run(engines[name], count)[0])
        rates = {name: count / seconds[name][-1] for name in engines}
        log(f"round {index + 1}/{rounds}: raw {rates['raw']:.0f}/s, sandboxed {rates['sandboxed']:.0f}/s")
    result: dict[str, Any] = {"rounds": rounds, "instances": instances}
    for name, spent in seconds.items():
        result[name] = {
            "instances_per_s": round(instances / sum(spent), 2),
            "ms_per_instance": round(1000 * sum(spent) / instances, 3),
            "per_round_instances_per_s": [round(c / s, 2) for c, s in zip(per_round, spent, strict=True)],
        }
    ratios = [r / s for r, s in zip(seconds["raw"], seconds["sandboxed"], strict=True)]
    result["ratio_sandboxed_to_raw"] = round(statistics.median(ratios), 4)
    result["ratio_per_round"] = [round(x, 4) for x in ratios]
    result["ratio_is"] = "median over rounds of (sandboxed rate / raw rate of the same round)"
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m bench.scripts", description=__doc__, formatter_class=formatter
    )
    parser.add_argument("--rounds", type=int, help="interleaved lifecycle rounds (5; quick 3)")
    parser.add_argument("--instances", type=int, help="lifecycle instances per engine (5000; quick 1500)")
    parser.add_argument("--evaluations", type=int, help="timed calls per case and engine (20000; quick 5000)")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "scripts.json")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if min(args.rounds, args.evaluations) < 1 or args.instances < args.rounds:
        parser.error("--rounds and --evaluations must be >= 1, --instances >= --rounds")
    return args


def print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nEvaluation: {args.evaluations} timed calls per case and engine after {WARMUP_EVALUATIONS} "
        "untimed; times in microseconds;\nsandbox = SandboxEnvironment on shared_pool(Limits()), "
        "raw = SpiffWorkflow's TaskDataEnvironment;\n'>1 ms' = sandbox calls over 1 ms (among them: "
        f"the calls that start a new worker, one per {Limits().uses_per_worker} uses)"
    )
    columns = ("sandbox p50", "sandbox p99", "raw p50", "raw p99", "overhead p50", ">1 ms")
    header = f"{'case':<32}{'path':<12}" + "".join(f"{c:>13}" for c in columns)
    print(header + "\n" + "-" * len(header))
    for label, row in report["evaluation"].items():
        box, raw = row["sandbox"], row["raw"]
        values = (box["p50_us"], box["p99_us"], raw["p50_us"], raw["p99_us"], row["overhead_p50_us"])
        cells = "".join(f"{v:>13.1f}" for v in values)
        print(f"{label:<32}{row['path']:<12}{cells}{box['over_1ms']:>13}")
    print(
        f"target: <= {P50_TARGET_US:.0f} us per worker evaluation at p50 -> slowest worker case "
        f"{report['slowest_worker_p50_us']:.1f} us: {'met' if report['target_met'] else 'NOT met'}"
    )
    life = report["lifecycle"]
    print(
        f"\nLifecycle: bench/{BPMN.name} (10 script tasks, 10 conditions, 5 of them simple);\nper "
        f"instance: create, run to the end, serialize; {life['instances']} instances per engine in "
        f"{life['rounds']} interleaved rounds"
    )
    header = f"{'engine':<32}{'instances/s':>12}{'ms/instance':>13}  per round"
    print(header + "\n" + "-" * len(header))
    for name, label in (("raw", "raw SpiffWorkflow (in-process)"), ("sandboxed", "sandboxed script engine")):
        row = life[name]
        rounds = ", ".join(f"{x:.0f}" for x in row["per_round_instances_per_s"])
        print(f"{label:<32}{row['instances_per_s']:>12.1f}{row['ms_per_instance']:>13.3f}  {rounds}")
    per_round = ", ".join(f"{x:.3f}" for x in life["ratio_per_round"])
    print(f"ratio sandboxed/raw: {life['ratio_sandboxed_to_raw']:.3f} (per round: {per_round})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    log = lambda message: print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)  # noqa: E731
    functions = diagram_functions(SystemClock(), WorkingCalendar(), lambda name: [])
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "bench.scripts", *(sys.argv[1:] if argv is None else argv)]),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "SpiffWorkflow": metadata.version("SpiffWorkflow"),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "sandbox_limits": asdict(Limits()),
            "sandbox_layers": shared_pool(Limits()).describe(),
        },
        "targets": {"worker_evaluation_p50_us_max": P50_TARGET_US},
    }
    log(f"evaluation: {len(CASES)} cases x {args.evaluations} calls, sandbox and raw ...")
    report["evaluation"] = measure_evaluations(args.evaluations, functions)
    worst = max(r["sandbox"]["p50_us"] for r in report["evaluation"].values() if r["path"] == "worker")
    report.update(slowest_worker_p50_us=worst, target_met=worst <= P50_TARGET_US)
    log(f"lifecycle: {args.instances} instances per engine in {args.rounds} rounds ...")
    report["lifecycle"] = measure_lifecycle(args.rounds, args.instances, functions, log)
    report["environment"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print_table(report, args)
    print(f"\nresults: {args.output} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
