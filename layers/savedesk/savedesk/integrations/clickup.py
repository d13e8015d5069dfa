"""ClickUp API v2 client: the lists of a client, their open tasks, and tasks for the team.

ClickUp has no idempotency key. Callers dedupe creates by tagging each task they make with
`savedesk-<case_id>-<step>` and calling `find_task_by_tag` before `create_task`.
ClickUp stores tag names in lower case, so tags are lower-cased here on the way in and
compared in lower case on the way back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx
from pydantic import BaseModel

from savedesk.errors import TransientError, VendorError
from savedesk.integrations.http import DEFAULT_TIMEOUT, call_json, json_request

VENDOR = "clickup"
PAGE_SIZE = 100
# A client with more than 10,000 tasks in one list is not a client we have; stop rather than loop.
MAX_PAGES = 100


class Task(BaseModel):
    id: str
    name: str
    status: str
    status_type: str
    url: str
    list_id: str
    tags: list[str]

    @property
    def is_closed(self) -> bool:
        return self.status_type == "closed"

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Task:
        status = data.get("status") or {}
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            status=str(status.get("status", "")),
            status_type=str(status.get("type", "")),
            url=str(data.get("url", "")),
            list_id=str((data.get("list") or {}).get("id", "")),
            tags=[str(t["name"]) if isinstance(t, dict) else str(t) for t in data.get("tags") or []],
        )


class TaskList(BaseModel):
    """A ClickUp list (the container of tasks, not a Python list)."""

    id: str
    name: str
    task_count: int | None = None
    archived: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TaskList:
        count = data.get("task_count")
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            task_count=int(count) if count not in (None, "") else None,
            archived=bool(data.get("archived", False)),
        )


def due_date_ms(day: date) -> int:
    """Midnight UTC of `day` in Unix ms: ClickUp's all-day due date (sent with due_date_time false)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


class ClickUpClient:
    """`base_url` ends at the version: `https://api.clickup.com/api/v2` or `http://127.0.0.1:PORT/clickup/api/v2`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        http: httpx.Client | None = None,
        budget_seconds: Callable[[], float] | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._budget_seconds = budget_seconds

    # -- hierarchy ------------------------------------------------------------------------

    def lists_in_folder(self, folder_id: str) -> list[TaskList]:
        body = self._call("GET", f"/folder/{folder_id}/list", params={"archived": "false"})
        return [TaskList.from_api(item) for item in _array(body, "lists")]

    def lists_in_space(self, space_id: str) -> list[TaskList]:
        """The space's folderless lists (lists inside folders come from `lists_in_folder`)."""
        body = self._call("GET", f"/space/{space_id}/list", params={"archived": "false"})
        return [TaskList.from_api(item) for item in _array(body, "lists")]

    # -- tasks ----------------------------------------------------------------------------

    def open_tasks(self, list_id: str) -> list[Task]:
        """Every task of the list that is not closed, all pages.

        Collect first, then change: closing tasks while paging would shift the pages under us.
        """
        return self._tasks(list_id, {})

    def find_task_by_tag(self, list_id: str, tag: str) -> Task | None:
        """The first task of the list carrying `tag`, closed ones included (a closed duplicate is still one)."""
        wanted = tag.lower()
        for task in self._tasks(list_id, {"tags[]": wanted, "include_closed": "true"}):
            if wanted in (t.lower() for t in task.tags):
                return task
        return None

    def get_task(self, task_id: str) -> Task:
        return Task.from_api(self._call("GET", f"/task/{task_id}"))

    def close_task(self, task_id: str, status: str = "complete") -> Task:
        """Move the task to a closed status; `status` must exist on the task's list."""
        return Task.from_api(self._call("PUT", f"/task/{task_id}", json_body={"status": status}))

    def create_task(
        self,
        list_id: str,
        name: str,
        markdown: str,
        due_date: date | None = None,
        tags: Sequence[str] = (),
        priority: int | None = None,
        assignees: Sequence[int] = (),
    ) -> Task:
        """Create a task with a markdown description. `priority`: 1 urgent, 2 high, 3 normal, 4 low."""
        body: dict[str, Any] = {"name": name, "markdown_content": markdown, "notify_all": False}
        if due_date is not None:
            body["due_date"] = due_date_ms(due_date)
            body["due_date_time"] = False
        if tags:
            body["tags"] = [t.lower() for t in tags]
        if priority is not None:
            body["priority"] = priority
        if assignees:
            body["assignees"] = list(assignees)
        return Task.from_api(self._call("POST", f"/list/{list_id}/task", json_body=body))

    def _tasks(self, list_id: str, filters: dict[str, str]) -> list[Task]:
        tasks: list[Task] = []
        seen: set[str] = set()
        for page in range(MAX_PAGES):
            body = self._call("GET", f"/list/{list_id}/task", params={**filters, "page": str(page)})
            items = _array(body, "tasks")
            for item in items:
                task = Task.from_api(item)
                if task.id not in seen:
                    seen.add(task.id)
                    tasks.append(task)
            last_page = body.get("last_page")
            # `last_page` is the documented signal; a short page is the fallback when it is missing.
            if last_page is True or (last_page is None and len(items) < PAGE_SIZE) or not items:
                return tasks
        raise VendorError(f"clickup: list {list_id} has more than {MAX_PAGES} pages of tasks")

    # -- transport ------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        request = json_request(
            self._http,
            method,
            f"{self._base_url}{path}",
            headers={"Authorization": self._auth_header()},
            json_body=json_body,
            params=params,
        )
        return call_json(
            self._http,
            request,
            vendor=VENDOR,
            budget_seconds=self._budget_seconds,
            describe_error=lambda r: f"clickup: {method} {path} {r.status_code} {_describe_error(r)}",
        )

    def _auth_header(self) -> str:
        # Personal tokens go raw; anything else is an OAuth access token.
        return self._token if self._token.startswith("pk_") else f"Bearer {self._token}"


def _array(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list):
        raise TransientError(f"clickup: malformed response (no {key} array)")
    return [item for item in items if isinstance(item, dict)]


def _describe_error(response: httpx.Response) -> str:
    """`ECODE err` from ClickUp's error body (`err`, or `error` on a few endpoints)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return str(body)[:200]
    message = body.get("err") or body.get("error") or body.get("message") or ""
    return f"{body.get('ECODE', '')} {message}".strip()
