"""ClickUpClient against canned transports: auth, paging, request bodies, error mapping."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from savedesk.errors import PermanentError, TransientError, VendorError
from savedesk.integrations.clickup import ClickUpClient, Task, TaskList, due_date_ms

BASE = "https://clickup.test/api/v2"

Handler = Callable[[httpx.Request], httpx.Response]


def task_json(task_id: str, *, status: str = "to do", kind: str = "open", tags: list[str] | None = None) -> dict:
    return {
        "id": task_id,
        "name": f"Task {task_id}",
        "status": {"status": status, "type": kind, "color": "#87909e", "orderindex": 0},
        "url": f"https://app.clickup.com/t/{task_id}",
        "list": {"id": "901300011", "name": "SEO retainer", "access": True},
        "tags": [{"name": t, "tag_fg": "#fff", "tag_bg": "#000", "creator": 1} for t in tags or []],
        "date_created": "1780272000000",
    }


def make_client(
    handler: Handler,
    token: str = "pk_test",  # noqa: S107
    budget: float | None = None,
) -> tuple[ClickUpClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(record))
    client = ClickUpClient(BASE, token, http=http, budget_seconds=(lambda: budget) if budget is not None else None)
    return client, seen


def paged(total: int, page_size: int = 100, with_last_page: bool = True) -> Handler:
    """A list endpoint holding `total` tasks, paged like ClickUp."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        ids = [f"t{i}" for i in range(total)][page * page_size : (page + 1) * page_size]
        body: dict[str, Any] = {"tasks": [task_json(i) for i in ids]}
        if with_last_page:
            body["last_page"] = (page + 1) * page_size >= total
        return httpx.Response(200, json=body)

    return handler


def test_personal_token_is_sent_raw() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=task_json("abc")), token="pk_123")
    client.get_task("abc")
    assert seen[0].headers["Authorization"] == "pk_123"


def test_oauth_token_is_sent_as_bearer() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=task_json("abc")), token="oauth-access-token")
    client.get_task("abc")
    assert seen[0].headers["Authorization"] == "Bearer oauth-access-token"


def test_task_from_api() -> None:
    task = Task.from_api(task_json("86abc", status="complete", kind="closed", tags=["savedesk-c1-pause"]))
    assert task == Task(
        id="86abc",
        name="Task 86abc",
        status="complete",
        status_type="closed",
        url="https://app.clickup.com/t/86abc",
        list_id="901300011",
        tags=["savedesk-c1-pause"],
    )
    assert task.is_closed


def test_open_tasks_pages_until_last_page() -> None:
    client, seen = make_client(paged(250))

    tasks = client.open_tasks("901300011")

    assert [t.id for t in tasks] == [f"t{i}" for i in range(250)]
    assert [r.url.params["page"] for r in seen] == ["0", "1", "2"]
    assert all(r.url.path == "/api/v2/list/901300011/task" for r in seen)
    assert all("include_closed" not in r.url.params for r in seen)  # closed tasks are excluded by default


def test_open_tasks_exactly_one_full_page() -> None:
    client, seen = make_client(paged(100))
    assert len(client.open_tasks("901300011")) == 100
    assert len(seen) == 1


def test_open_tasks_without_last_page_stops_on_a_short_page() -> None:
    client, seen = make_client(paged(130, with_last_page=False))
    assert len(client.open_tasks("901300011")) == 130
    assert len(seen) == 2


def test_open_tasks_drops_duplicates_across_pages() -> None:
    pages = [
        {"tasks": [task_json(f"t{i}") for i in range(100)], "last_page": False},
        {"tasks": [task_json("t99"), task_json("t100")], "last_page": True},
    ]
    client, _ = make_client(lambda r: httpx.Response(200, json=pages[int(r.url.params["page"])]))
    assert [t.id for t in client.open_tasks("1")][-2:] == ["t99", "t100"]


def test_open_tasks_gives_up_on_endless_paging() -> None:
    endless = {"tasks": [task_json(f"t{i}") for i in range(100)], "last_page": False}
    client, seen = make_client(lambda r: httpx.Response(200, json=endless))
    with pytest.raises(VendorError, match="more than"):
        client.open_tasks("1")
    assert len(seen) == 100


def test_find_task_by_tag_asks_for_closed_tasks_too() -> None:
    found = task_json("86dup", status="complete", kind="closed", tags=["other", "savedesk-c-1-pause"])
    client, seen = make_client(lambda r: httpx.Response(200, json={"tasks": [found], "last_page": True}))

    task = client.find_task_by_tag("901200777", "savedesk-C-1-pause")

    assert task is not None and task.id == "86dup"
    params = seen[0].url.params
    assert params.get_list("tags[]") == ["savedesk-c-1-pause"]  # ClickUp keeps tags in lower case
    assert params["include_closed"] == "true"


def test_find_task_by_tag_ignores_tasks_without_the_tag() -> None:
    # Defensive: a vendor that ignores the filter must not make us skip a create.
    other = task_json("86x", tags=["seo"])
    client, _ = make_client(lambda r: httpx.Response(200, json={"tasks": [other], "last_page": True}))
    assert client.find_task_by_tag("1", "savedesk-c-1-pause") is None


def test_create_task_body() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=task_json("86new")))

    task = client.create_task(
        "901200777",
        "Pause campaigns: Acme Dental Group",
        "**Stop spend** today",
        due_date=date(2026, 12, 31),
        tags=["SaveDesk-c-1-PauseAds"],
        priority=2,
        assignees=[183],
    )

    assert task.id == "86new"
    request = seen[0]
    assert request.method == "POST"
    assert request.url.path == "/api/v2/list/901200777/task"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "name": "Pause campaigns: Acme Dental Group",
        "markdown_content": "**Stop spend** today",
        "notify_all": False,
        "due_date": 1798675200000,
        "due_date_time": False,
        "tags": ["savedesk-c-1-pauseads"],
        "priority": 2,
        "assignees": [183],
    }


def test_create_task_leaves_out_what_is_not_given() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=task_json("86new")))
    client.create_task("1", "Debrief", "notes")
    assert json.loads(seen[0].content) == {"name": "Debrief", "markdown_content": "notes", "notify_all": False}


def test_due_date_ms_is_midnight_utc() -> None:
    assert due_date_ms(date(2026, 7, 1)) == 1782864000000


def test_close_task_puts_the_status() -> None:
    client, seen = make_client(lambda r: httpx.Response(200, json=task_json("86a", status="complete", kind="closed")))
    task = client.close_task("86a")
    assert task.status == "complete" and task.is_closed
    assert seen[0].method == "PUT"
    assert seen[0].url.path == "/api/v2/task/86a"
    assert json.loads(seen[0].content) == {"status": "complete"}


def test_lists_in_folder_and_space() -> None:
    lists = {"lists": [{"id": "901300011", "name": "SEO retainer", "task_count": "105", "archived": False}]}
    client, seen = make_client(lambda r: httpx.Response(200, json=lists))
    assert client.lists_in_folder("90130001") == [TaskList(id="901300011", name="SEO retainer", task_count=105)]
    assert client.lists_in_space("90120002")[0].id == "901300011"
    assert [r.url.path for r in seen] == ["/api/v2/folder/90130001/list", "/api/v2/space/90120002/list"]
    assert all(r.url.params["archived"] == "false" for r in seen)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"err": "Authorization header required", "ECODE": "OAUTH_017"}, "401 OAUTH_017 Authorization"),
        (401, {"err": "Token invalid", "ECODE": "OAUTH_019"}, "401 OAUTH_019 Token invalid"),
        (403, {"err": "Team not authorized", "ECODE": "OAUTH_027"}, "403 OAUTH_027"),
        (400, {"err": "Status does not exist", "ECODE": "CRTSK_001"}, "400 CRTSK_001 Status does not exist"),
        (404, {"err": "Task not found, deleted", "ECODE": "ITEM_013"}, "404 ITEM_013 Task not found"),
        (400, {"error": "Bad thing", "ECODE": "X_1"}, "400 X_1 Bad thing"),
    ],
)
def test_client_errors_are_permanent_with_ecode(status: int, body: dict, expected: str) -> None:
    client, _ = make_client(lambda r: httpx.Response(status, json=body))
    with pytest.raises(VendorError, match=expected) as caught:
        client.close_task("86a")
    assert isinstance(caught.value, PermanentError)
    assert str(caught.value).startswith("clickup: ")


def test_error_without_json_body_is_still_permanent() -> None:
    client, _ = make_client(lambda r: httpx.Response(404, text="Not Found"))
    with pytest.raises(VendorError, match="404 Not Found"):
        client.get_task("nope")


def test_429_waits_for_rate_limit_reset_then_succeeds() -> None:
    # Reset already passed: wait 0 s, so the test does not sleep.
    limited = httpx.Response(
        429,
        headers={
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) - 1),
        },
        json={"err": "Rate limit reached", "ECODE": "APP_002"},
    )
    responses = iter([limited, httpx.Response(200, json=task_json("86new"))])
    client, seen = make_client(lambda r: next(responses))

    task = client.create_task("1", "Debrief", "notes")

    assert task.id == "86new"
    assert len(seen) == 2


def test_429_past_the_budget_is_transient_with_retry_after() -> None:
    reset = str(int(time.time()) + 45)
    client, _ = make_client(lambda r: httpx.Response(429, headers={"X-RateLimit-Reset": reset}), budget=10)
    with pytest.raises(TransientError) as caught:
        client.get_task("86a")
    assert caught.value.retry_after is not None and 40 <= caught.value.retry_after <= 45


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(status: int) -> None:
    client, _ = make_client(lambda r: httpx.Response(status, json={"err": "oops", "ECODE": "SRV_1"}))
    with pytest.raises(TransientError):
        client.open_tasks("1")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=[]),
        httpx.Response(200, json={"last_page": True}),  # no tasks array
    ],
)
def test_malformed_responses_are_transient(response: httpx.Response) -> None:
    client, _ = make_client(lambda r: response)
    with pytest.raises(TransientError, match="malformed"):
        client.open_tasks("1")


def test_timeout_is_transient() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    client, _ = make_client(time_out)
    with pytest.raises(TransientError, match="timed out"):
        client.get_task("86a")
