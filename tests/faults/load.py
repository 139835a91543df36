"""The scale-out test's load, through the REST API of two servers at once: Council polls (the
Secretariat prepares, the Chairman agrees, members cast ballots until the poll is decided) and
appeals (registered, assigned, considered, answered, approved, sent). Each request goes to the
next server, and is sent again elsewhere when a server is down or busy.

Every answer is counted by kind and by second; every completion answered 2xx is remembered, to be
found in the database afterwards."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from typing import Any

POLL_START = {"process_model": "council_poll", "data": {}}
PREPARED = {
    "poll_question": "Adopt the address of the Assembly?",
    "poll_deadline": "2099-12-30T18:30:00+05:00",
    "convened_by": "chairman",
    "convening_reference": "Instruction No. 7",
}


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    answers: Counter = field(default_factory=Counter)  # kind -> count
    per_second: Counter = field(default_factory=Counter)  # whole second since start -> 2xx answers
    completed: list[tuple[str, str]] = field(default_factory=list)  # (task id, username), 2xx only
    polls: list[int] = field(default_factory=list)
    appeals: list[int] = field(default_factory=list)
    appeals_completed: int = 0  # filled by the checks
    timers_by_scheduler: dict[str, int] = field(default_factory=dict)  # filled by the checks
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, ok: bool) -> None:
        with self.lock:
            self.answers[kind] += 1
            if ok:
                self.per_second[int(time.monotonic() - self.started)] += 1


class Client:
    """Requests to the servers in turn; a refused connection or a 503 is sent to the next one."""

    def __init__(self, servers: list[tuple[str, int]], tokens: dict[str, str], tally: Tally) -> None:
        self.servers = servers
        self.tokens = tokens
        self.tally = tally
        self._turn = count()

    def call(
        self, method: str, path: str, user: str, body: Any = None, *, give_up_after: float = 60
    ) -> tuple[int, Any]:
        deadline = time.monotonic() + give_up_after
        while True:
            host, port = self.servers[next(self._turn) % len(self.servers)]
            connection = http.client.HTTPConnection(host, port, timeout=15)
            try:
                payload = json.dumps(body) if body is not None else None
                headers = {"Authorization": f"Bearer {self.tokens[user]}", "Content-Type": "application/json"}
                connection.request(method, path, body=payload, headers=headers)
                response = connection.getresponse()
                status, text = response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.tally.note(f"connection: {type(exc).__name__}", ok=False)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                continue
            finally:
                connection.close()
            self.tally.note(str(status), ok=200 <= status < 300)
            if status == 503 and time.monotonic() < deadline:
                time.sleep(min(float(response.getheader("Retry-After") or 1), 1.0))
                continue
            return status, json.loads(text) if text else None


def run_poll(client: Client, council: list[str], needed: int) -> None:
    """One poll from start to decision: `needed` members vote for, which decides it."""
    status, started = client.call("POST", "/api/v1/process-instances", "secretary", POLL_START)
    if status != 201:
        return
    instance_id = started["id"]
    with client.tally.lock:
        client.tally.polls.append(instance_id)
    _complete_the(client, instance_id, "Task_PreparePoll", "secretary", PREPARED)
    _complete_the(client, instance_id, "Task_ChairmanAgreement", "chairman", {"chairman_decision": "agree"})
    status, view = client.call("GET", f"/api/v1/process-instances/{instance_id}", "secretary")
    ballots = {
        task["assignee"]: task["id"] for task in view.get("tasks", []) if task["name"] == "Task_CastBallot"
    }
    for member in council[:needed]:
        if member in ballots:
            _complete(client, ballots[member], member, {"vote": "for"})


def appeal(received_at: str) -> dict[str, Any]:
    return {
        "received_at": received_at, "registration_number": f"ZT-LOAD-{uuid.uuid4().hex[:10]}",
        "appeal_type": "complaint", "appeal_language": "ru", "anonymous": False,
        "applicant_kind": "individual", "applicant_name": "Olga Ivanova",
        "applicant_id_number": "850101400123", "applicant_address": "Astana, Mangilik El 8",
        "registration_notice": "post", "substance": "Language of signs in the city.",
        "reports_crime_or_threat": False, "within_competence": True,
    }  # fmt: skip


def run_appeal(client: Client) -> None:
    """One appeal from registration to the answer sent."""
    status, started = client.call(
        "POST", "/api/v1/process-instances", "secretary", {"process_model": "appeal"}
    )
    if status != 201:
        return
    instance_id = started["id"]
    with client.tally.lock:
        client.tally.appeals.append(instance_id)
    received = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    sent = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    for element, user, data in (
        ("Task_RegisterAppeal", "secretary", appeal(received)),
        ("Task_AssignExecutor", "head", {"executor": "secretary"}),
        ("Task_ConsiderAppeal", "secretary", {"next_step": "prepare_answer"}),
        ("Task_PrepareAnswer", "secretary", {"answer_text": "Answer.", "answer_language": "ru"}),
        ("Task_ApproveAnswer", "head", {"answer_decision": "approve"}),
        (
            "Task_SendAnswer",
            "secretary",
            {"answer_sent_at": sent, "outgoing_number": "ZT-1/1", "delivery_channel": "post"},
        ),
    ):
        _complete_the(client, instance_id, element, user, data)


def _complete_the(client: Client, instance_id: int, element: str, user: str, data: dict) -> None:
    status, view = client.call("GET", f"/api/v1/process-instances/{instance_id}", user)
    for task in view.get("tasks", []) if status == 200 else []:
        if task["name"] == element:
            _complete(client, task["id"], user, data)


def _complete(client: Client, task_id: str, user: str, data: dict) -> None:
    status, _ = client.call("POST", f"/api/v1/tasks/{task_id}/complete", user, {"data": data})
    if 200 <= status < 300:
        with client.tally.lock:
            client.tally.completed.append((task_id, user))


def load(client: Client, council: list[str], needed: int, threads: int, seconds: float) -> None:
    """`threads` clients each running polls one after another for `seconds`."""
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop_at:
            try:
                run_poll(client, council, needed)
                run_appeal(client)
            except (OSError, http.client.HTTPException):
                time.sleep(0.5)  # every server unreachable for a minute: counted, and go on

    running = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
