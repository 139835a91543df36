"""The inbox read model: filters, sorting, pages, and a fixed number of queries per page (no N+1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert

from app.db.models import HumanTask
from app.services.people import users
from app.services.work import inbox
from app.services.work.inbox import InboxQuery
from tests.conftest import START


def _bulk_tasks(ctx: Any, instance_id: int, count: int, user_id: int) -> None:
    rows = [
        {
            "id": f"bulk-{i:05d}",
            "instance_id": instance_id,
            "model_id": "approval",
            "element_id": "Task_Review",
            "name": "Review the request" if i % 2 else "Sign the order",
            "titles": {"en": "Review", "ru": "Рассмотреть заявку"} if i % 2 else {"en": "Sign"},
            "lane": "reviewers",
            "group_name": "reviewers",
            "assignee_id": user_id if i % 3 == 0 else None,
            "created_at": START + timedelta(minutes=i),
            "due_at": START + timedelta(hours=i - 10) if i % 5 else None,
        }
        for i in range(count)
    ]
    with ctx.uow(write=True) as uow:
        uow.session.execute(insert(HumanTask), rows)
        uow.commit()


def _count_queries(ctx: Any, run: Any) -> int:
    engine = ctx.session_factory.kw["bind"]
    statements: list[str] = []

    def listener(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])


def test_pages_filters_and_constant_queries(ctx: Any, seeded: dict) -> None:
    alice = users.actor_for(ctx, "alice")
    _bulk_tasks(ctx, seeded["instance_id"], 600, alice.user_id)
    small = _count_queries(ctx, lambda: inbox.inbox_page(ctx, alice, InboxQuery(scope="mine", per_page=5)))
    large = _count_queries(ctx, lambda: inbox.inbox_page(ctx, alice, InboxQuery(scope="mine", per_page=200)))
    assert small == large <= 3

    page = inbox.inbox_page(ctx, alice, InboxQuery(scope="mine", per_page=50, page=2))
    assert page.total == 200 and len(page.rows) == 50 and page.pages == 4
    assert all(r.assignee == "alice" for r in page.rows)

    overdue = inbox.inbox_page(ctx, alice, InboxQuery(scope="available", due="overdue", per_page=200))
    assert overdue.rows and all(r.urgency == "overdue" and r.assignee is None for r in overdue.rows)
    by_due = inbox.inbox_page(ctx, alice, InboxQuery(scope="mine", per_page=200)).rows  # the default
    dues = [r.due_at for r in by_due if r.due_at]
    assert dues == sorted(dues) and by_due[-1].due_at is None  # no deadline: last
    undated = [r.created_at for r in by_due if r.due_at is None]
    assert undated == sorted(undated, reverse=True)  # then the newest first

    russian = inbox.inbox_page(ctx, alice, InboxQuery(scope="mine", q="заявку", per_page=200))
    assert russian.total and all(r.titles.get("ru") == "Рассмотреть заявку" for r in russian.rows)
    by_number = inbox.inbox_page(ctx, alice, InboxQuery(scope="available", q=str(seeded["instance_id"])))
    assert by_number.total > 0
    assert inbox.open_task_count(ctx, alice) == 601  # 200 mine + 400 available + the seeded one


def test_query_from_arguments_falls_back_to_defaults() -> None:
    query = InboxQuery.from_mapping(
        {"scope": "bogus", "sort": "x", "page": "-4", "per_page": "100000", "desc": "1"}
    )
    assert (query.scope, query.sort, query.page, query.per_page, query.desc) == (
        "mine",
        "due",
        1,
        200,
        True,
    )
    assert InboxQuery.from_mapping(query.as_saved()) == InboxQuery(desc=True, per_page=25)


def test_the_inbox_opens_where_the_work_is_and_remembers_the_tab(
    ctx: Any, seeded: dict, browser: Any
) -> None:
    alice = users.actor_for(ctx, "alice")
    assert inbox.task_counts(ctx, alice) == {"mine": 0, "available": 1}
    browser.login("alice")
    page = browser.get("/inbox").get_data(as_text=True)
    # Nothing of her own: the inbox opens on her groups' tab, where the task waits.
    assert 'scope=available" aria-current="page"' in page and f"/tasks/{seeded['task_id']}" in page
    browser.post(f"/tasks/{seeded['task_id']}/claim")
    page = browser.get("/inbox").get_data(as_text=True)
    assert 'scope=mine" aria-current="page"' in page and f"/tasks/{seeded['task_id']}" in page
    browser.get("/inbox?scope=available")  # chosen, but empty now: the work is under "mine"
    assert 'scope=mine" aria-current="page"' in browser.get("/inbox").get_data(as_text=True)
    browser.post(f"/tasks/{seeded['task_id']}/unclaim")
    browser.get("/inbox?scope=mine")  # chosen and empty: back to where the work is
    assert 'scope=available" aria-current="page"' in browser.get("/inbox").get_data(as_text=True)
    browser.post(f"/tasks/{seeded['task_id']}/claim")
    browser.get("/inbox?scope=available")
    assert 'scope=mine" aria-current="page"' in browser.get("/inbox").get_data(as_text=True)
