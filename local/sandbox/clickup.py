"""ClickUp API v2 stand-in: the hierarchy and task endpoints SaveDesk uses.

Wire format per /work/shared/fixtures/clickup-openapi.json and api-reference.md section 2:
raw `pk_` tokens or `Bearer` OAuth tokens, `{"err", "ECODE"}` errors, dates as strings of
Unix milliseconds, 100 tasks per page, and a per-token limit of 100 requests a minute with
the `X-RateLimit-*` headers on every answer.

The ECODEs for unknown ids and validation are the stand-in's best approximation; the
auth codes (OAUTH_017, OAUTH_019) are documented.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from local.sandbox.app import vendor_state

blueprint = Blueprint("clickup", __name__)

SEED_TOKEN = "pk_local_savedesk"  # noqa: S105 - a stand-in token, valid only on loopback
PAGE_SIZE = 100
RATE_LIMIT_PER_MINUTE = 100

TEAM_ID = "9010000001"
CLIENT_SPACE_ID = "90120001"
INTERNAL_SPACE_ID = "90120002"
CLIENT_FOLDER_ID = "90130001"
SEO_LIST_ID = "901300011"
PAID_SOCIAL_LIST_ID = "901300012"
ADS_TEAM_LIST_ID = "901200777"
ACCOUNT_MANAGEMENT_LIST_ID = "901200999"
DEBRIEFS_LIST_ID = "901200888"

# Seeded epoch: 2026-06-01T00:00:00Z, so seed dates are stable across runs.
SEED_EPOCH_MS = 1_780_272_000_000
DAY_MS = 86_400_000

DEFAULT_STATUSES: list[dict[str, Any]] = [
    {"id": "sc_todo", "status": "to do", "type": "open", "orderindex": 0, "color": "#87909e"},
    {"id": "sc_progress", "status": "in progress", "type": "custom", "orderindex": 1, "color": "#5f55ee"},
    {"id": "sc_complete", "status": "complete", "type": "closed", "orderindex": 2, "color": "#008844"},
]

PRIORITIES = {
    1: {"id": "1", "priority": "urgent", "color": "#f50000", "orderindex": "1"},
    2: {"id": "2", "priority": "high", "color": "#f8ae00", "orderindex": "2"},
    3: {"id": "3", "priority": "normal", "color": "#6fddff", "orderindex": "3"},
    4: {"id": "4", "priority": "low", "color": "#d8d8d8", "orderindex": "4"},
}

MEMBERS: dict[int, dict[str, Any]] = {
    183: {"id": 183, "username": "Priya Natarajan", "email": "priya@topline-agency.example", "color": "#827718"},
    184: {"id": 184, "username": "Joey Marsh", "email": "joey@topline-agency.example", "color": "#1b5e20"},
    185: {"id": 185, "username": "Sam Ortiz", "email": "sam@topline-agency.example", "color": "#4a148c"},
}


class ClickUpError(Exception):
    def __init__(self, status: int, err: str, ecode: str) -> None:
        super().__init__(err)
        self.status, self.err, self.ecode = status, err, ecode


class ClickUpState:
    """Team → spaces → folders → lists → tasks of one fake workspace, plus tokens and rate counters."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        # Re-entrant: task_json and list_json are called with it held and on their own.
        self.lock = threading.RLock()
        self.clock = clock
        self.rate_limit = RATE_LIMIT_PER_MINUTE
        self.personal_tokens: set[str] = set()
        self.oauth_tokens: set[str] = set()
        self.spaces: dict[str, dict[str, Any]] = {}
        self.folders: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self._windows: dict[str, tuple[int, int]] = {}  # token -> (window start, count)
        self._task_counter = 0

    # -- seed helpers -------------------------------------------------------------------

    def add_token(self, token: str) -> None:
        """`pk_…` tokens are sent raw; anything else is an OAuth token sent as `Bearer`."""
        with self.lock:
            (self.personal_tokens if token.startswith("pk_") else self.oauth_tokens).add(token)

    def add_space(self, space_id: str, name: str) -> None:
        with self.lock:
            self.spaces[space_id] = {"id": space_id, "name": name}

    def add_folder(self, folder_id: str, name: str, space_id: str) -> None:
        with self.lock:
            self.folders[folder_id] = {"id": folder_id, "name": name, "space_id": space_id}

    def add_list(
        self,
        list_id: str,
        name: str,
        *,
        space_id: str,
        folder_id: str | None = None,
        statuses: list[dict[str, Any]] | None = None,
    ) -> None:
        with self.lock:
            self.lists[list_id] = {
                "id": list_id,
                "name": name,
                "space_id": space_id,
                "folder_id": folder_id,
                "statuses": [dict(s) for s in (statuses or DEFAULT_STATUSES)],
                "archived": False,
            }

    def add_task(
        self,
        list_id: str,
        name: str,
        *,
        status: str = "to do",
        tags: list[str] | None = None,
        assignees: list[int] | None = None,
        priority: int | None = None,
        due_date_ms: int | None = None,
        markdown: str = "",
        created_ms: int | None = None,
        archived: bool = False,
    ) -> dict[str, Any]:
        """Store a task (no validation: seeding may set up states the API would refuse)."""
        with self.lock:
            status_obj = self._status(list_id, status)
            if status_obj is None:
                raise ValueError(f"status {status!r} does not exist on list {list_id}")
            self._task_counter += 1
            now_ms = created_ms if created_ms is not None else int(self.clock() * 1000)
            task: dict[str, Any] = {
                "id": f"86{self._task_counter:07x}",
                "list_id": list_id,
                "name": name,
                "markdown": markdown,
                "status": status_obj,
                "tags": [t.lower() for t in (tags or [])],
                "assignees": list(assignees or []),
                "priority": priority,
                "due_date": due_date_ms,
                "date_created": now_ms,
                "date_updated": now_ms,
                "date_closed": now_ms if status_obj["type"] == "closed" else None,
                "archived": archived,
            }
            self.tasks[task["id"]] = task
            return task

    # -- behaviour ----------------------------------------------------------------------

    def _status(self, list_id: str, name: str) -> dict[str, Any] | None:
        # ClickUp matches status names case-insensitively.
        for status in self.lists[list_id]["statuses"]:
            if status["status"].lower() == name.lower():
                return dict(status)
        return None

    def authorize(self, header: str) -> str:
        """The token behind an Authorization header; ClickUpError when missing or unknown."""
        if not header:
            raise ClickUpError(401, "Authorization header required", "OAUTH_017")
        if header.startswith("Bearer "):
            token, known = header.removeprefix("Bearer ").strip(), self.oauth_tokens
        else:
            token, known = header.strip(), self.personal_tokens
        if token not in known:
            raise ClickUpError(401, "Token invalid", "OAUTH_019")
        return token

    def count_request(self, token: str) -> tuple[bool, dict[str, str]]:
        """Count one request against the token's fixed one-minute window: (allowed, rate headers)."""
        with self.lock:
            now = int(self.clock())
            start, count = self._windows.get(token, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            count += 1
            self._windows[token] = (start, count)
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(0, self.rate_limit - count)),
                "X-RateLimit-Reset": str(start + 60),
            }
            return count <= self.rate_limit, headers

    def task_json(self, task: dict[str, Any]) -> dict[str, Any]:
        """A task as the API shows it (the spec's Task object)."""
        with self.lock:
            task_list = self.lists[task["list_id"]]
            folder = self.folders.get(task_list["folder_id"] or "")
            # Folderless lists sit in a hidden folder in ClickUp's answers.
            folder_json = (
                {"id": folder["id"], "name": folder["name"], "hidden": False, "access": True}
                if folder
                else {"id": f"hidden-{task_list['space_id']}", "name": "hidden", "hidden": True, "access": True}
            )
            closed = task["date_closed"]
            return {
                "id": task["id"],
                "custom_id": None,
                "custom_item_id": 0,
                "name": task["name"],
                "text_content": task["markdown"],
                "description": task["markdown"],
                "markdown_description": task["markdown"],
                "status": dict(task["status"]),
                "orderindex": f"{int(task['date_created']) % 10_000_000}.00000000000000000000000000000000",
                "date_created": str(task["date_created"]),
                "date_updated": str(task["date_updated"]),
                "date_closed": str(closed) if closed is not None else None,
                "date_done": str(closed) if closed is not None else None,
                "archived": task["archived"],
                "creator": {"id": 183, "username": "Priya Natarajan", "color": "#827718", "profilePicture": None},
                "assignees": [
                    {**MEMBERS[a], "initials": _initials(MEMBERS[a]["username"]), "profilePicture": None}
                    for a in task["assignees"]
                    if a in MEMBERS
                ],
                "group_assignees": [],
                "watchers": [],
                "checklists": [],
                "tags": [{"name": t, "tag_fg": "#ffffff", "tag_bg": "#7c4dff", "creator": 183} for t in task["tags"]],
                "parent": None,
                "top_level_parent": None,
                "priority": dict(PRIORITIES[task["priority"]]) if task["priority"] in PRIORITIES else None,
                "due_date": str(task["due_date"]) if task["due_date"] is not None else None,
                "start_date": None,
                "points": None,
                "time_estimate": None,
                "custom_fields": [],
                "dependencies": [],
                "linked_tasks": [],
                "locations": [],
                "team_id": TEAM_ID,
                "url": f"https://app.clickup.com/t/{task['id']}",
                "sharing": {
                    "public": False,
                    "public_share_expires_on": None,
                    "public_fields": [],
                    "token": None,
                    "seo_optimized": False,
                },
                "permission_level": "create",
                "list": {"id": task_list["id"], "name": task_list["name"], "access": True},
                "project": folder_json,
                "folder": folder_json,
                "space": {"id": task_list["space_id"]},
            }

    def list_json(self, task_list: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            folder = self.folders.get(task_list["folder_id"] or "")
            space = self.spaces[task_list["space_id"]]
            task_count = sum(
                1 for t in self.tasks.values() if t["list_id"] == task_list["id"] and t["status"]["type"] != "closed"
            )
            return {
                "id": task_list["id"],
                "name": task_list["name"],
                "orderindex": 0,
                "content": "",
                "status": None,
                "priority": None,
                "assignee": None,
                "task_count": str(task_count),
                "due_date": None,
                "start_date": None,
                "folder": (
                    {"id": folder["id"], "name": folder["name"], "hidden": False, "access": True}
                    if folder
                    else {"id": f"hidden-{space['id']}", "name": "hidden", "hidden": True, "access": True}
                ),
                "space": {"id": space["id"], "name": space["name"], "access": True},
                "archived": task_list["archived"],
                "override_statuses": False,
                "statuses": [dict(s) for s in task_list["statuses"]],
                "permission_level": "create",
            }


_AVATAR = "https://attachments.clickup.com/profilePictures/{}_avatar.jpg"


def _initials(name: str) -> str:
    return "".join(part[0] for part in name.split()[:2]).upper()


# -- seed ---------------------------------------------------------------------------------

_SEO_WORK = [
    "Keyword research: {topic}",
    "Write blog post: {topic}",
    "On-page optimisation: {topic} landing page",
    "Build backlinks for {topic}",
    "Refresh meta descriptions: {topic}",
    "Internal linking audit: {topic}",
    "Schema markup: {topic}",
]
_SEO_TOPICS = [
    "teeth whitening",
    "dental implants",
    "Invisalign",
    "emergency dentist Portland",
    "pediatric dentistry",
    "root canal",
    "dental crowns",
    "veneers",
    "gum disease",
    "family dentist",
    "dental insurance FAQ",
    "sedation dentistry",
    "wisdom teeth",
    "dental bridges",
    "oral cancer screening",
]
_SOCIAL_WORK = [
    "Meta ads: new creative for {topic}",
    "Instagram carousel: {topic}",
    "Weekly budget check: {topic} campaign",
    "A/B test headlines: {topic}",
    "Retargeting audience refresh: {topic}",
]
_SOCIAL_TOPICS = ["whitening promo", "new-patient offer", "Invisalign consult", "back-to-school checkups"]


def new_state() -> ClickUpState:
    """The demo workspace of docs/demo-client.md: ~120 open client tasks, one list over a page."""
    state = ClickUpState()
    state.add_token(SEED_TOKEN)
    state.add_space(CLIENT_SPACE_ID, "Clients")
    # The internal lists live in their own space so that closing "everything of the client"
    # can never reach the ads team's or account management's lists.
    state.add_space(INTERNAL_SPACE_ID, "Topline internal")
    state.add_folder(CLIENT_FOLDER_ID, "Acme Dental Group", CLIENT_SPACE_ID)
    state.add_list(SEO_LIST_ID, "SEO retainer", space_id=CLIENT_SPACE_ID, folder_id=CLIENT_FOLDER_ID)
    state.add_list(PAID_SOCIAL_LIST_ID, "Paid social", space_id=CLIENT_SPACE_ID, folder_id=CLIENT_FOLDER_ID)
    state.add_list(ADS_TEAM_LIST_ID, "Ads team", space_id=INTERNAL_SPACE_ID)
    state.add_list(ACCOUNT_MANAGEMENT_LIST_ID, "Account management", space_id=INTERNAL_SPACE_ID)
    state.add_list(DEBRIEFS_LIST_ID, "Debriefs", space_id=INTERNAL_SPACE_ID)

    seo = [w.format(topic=t) for t in _SEO_TOPICS for w in _SEO_WORK]  # 105 open tasks: more than a page
    for i, name in enumerate(seo):
        state.add_task(
            SEO_LIST_ID,
            name,
            status="in progress" if i % 4 == 0 else "to do",
            tags=["seo", "acme-dental"],
            assignees=[185] if i % 3 else [183],
            priority=[None, 3, 2, 4][i % 4],
            due_date_ms=SEED_EPOCH_MS + (i % 30) * DAY_MS,
            markdown=f"Part of the monthly SEO retainer for Acme Dental Group.\n\n- [ ] {name}",
            created_ms=SEED_EPOCH_MS - (200 - i) * DAY_MS // 4,
        )
    social = [w.format(topic=t) for t in _SOCIAL_TOPICS for w in _SOCIAL_WORK][:17]
    for i, name in enumerate(social):
        state.add_task(
            PAID_SOCIAL_LIST_ID,
            name,
            status="in progress" if i % 3 == 0 else "to do",
            tags=["paid-social", "acme-dental"],
            assignees=[185],
            priority=2 if i % 5 == 0 else 3,
            due_date_ms=SEED_EPOCH_MS + (i % 14) * DAY_MS,
            created_ms=SEED_EPOCH_MS - (100 - i) * DAY_MS // 4,
        )
    for list_id, name in [
        (SEO_LIST_ID, "Monthly SEO report: April"),
        (SEO_LIST_ID, "Monthly SEO report: May"),
        (SEO_LIST_ID, "Google Business Profile cleanup"),
        (PAID_SOCIAL_LIST_ID, "Spring campaign wrap-up"),
        (PAID_SOCIAL_LIST_ID, "Pixel installation check"),
    ]:
        state.add_task(list_id, name, status="complete", tags=["acme-dental"], created_ms=SEED_EPOCH_MS - 90 * DAY_MS)
    state.add_task(ACCOUNT_MANAGEMENT_LIST_ID, "Quarterly business review: Acme Dental", tags=["qbr"], assignees=[183])
    return state


# -- request plumbing ---------------------------------------------------------------------


@blueprint.before_request
def _authorize_and_count() -> Response | None:
    state: ClickUpState = vendor_state("clickup")
    g.clickup_rate_headers = {}
    try:
        token = state.authorize(request.headers.get("Authorization", ""))
    except ClickUpError as exc:
        return _error_response(exc)
    allowed, headers = state.count_request(token)
    g.clickup_rate_headers = headers
    if not allowed:
        return _error_response(ClickUpError(429, "Rate limit reached", "APP_002"))
    return None


@blueprint.after_request
def _rate_headers(response: Response) -> Response:
    for key, value in g.get("clickup_rate_headers", {}).items():
        response.headers[key] = value
    return response


@blueprint.errorhandler(ClickUpError)
def _handle_error(exc: ClickUpError) -> Response:
    return _error_response(exc)


def _error_response(exc: ClickUpError) -> Response:
    response = jsonify({"err": exc.err, "ECODE": exc.ecode})
    response.status_code = exc.status
    return response


def _flag(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() == "true"


def _list_or_404(state: ClickUpState, list_id: str) -> dict[str, Any]:
    task_list = state.lists.get(list_id)
    if task_list is None:
        raise ClickUpError(404, "List not found", "SUBCAT_016")
    return task_list


def _task_or_404(state: ClickUpState, task_id: str) -> dict[str, Any]:
    task = state.tasks.get(task_id)
    if task is None:
        raise ClickUpError(404, "Task not found, deleted", "ITEM_013")
    return task


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ClickUpError(400, "Request body must be a JSON object", "INPUT_001")
    return body


# -- hierarchy ----------------------------------------------------------------------------


@blueprint.get("/api/v2/team")
def get_teams() -> Response:
    members = [
        {"user": {**m, "initials": _initials(m["username"]), "profilePicture": _AVATAR.format(m["id"])}}
        for m in MEMBERS.values()
    ]
    team = {"id": TEAM_ID, "name": "Topline Agency", "color": "#536cfe", "avatar": "", "members": members}
    return jsonify({"teams": [team]})


@blueprint.get("/api/v2/team/<team_id>/space")
def get_spaces(team_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    if team_id != TEAM_ID:
        raise ClickUpError(401, "Team not authorized", "OAUTH_027")
    spaces = [
        {"id": s["id"], "name": s["name"], "private": False, "statuses": DEFAULT_STATUSES, "archived": False}
        for s in state.spaces.values()
    ]
    return jsonify({"spaces": spaces})


@blueprint.get("/api/v2/space/<space_id>/folder")
def get_folders(space_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    if space_id not in state.spaces:
        raise ClickUpError(404, "Space not found", "PROJ_005")
    folders = []
    for folder in state.folders.values():
        if folder["space_id"] != space_id:
            continue
        lists = [state.list_json(li) for li in state.lists.values() if li["folder_id"] == folder["id"]]
        folders.append(
            {
                "id": folder["id"],
                "name": folder["name"],
                "orderindex": 0,
                "override_statuses": False,
                "hidden": False,
                "space": {"id": space_id, "name": state.spaces[space_id]["name"], "access": True},
                "task_count": str(sum(int(li["task_count"]) for li in lists)),
                "lists": lists,
            }
        )
    return jsonify({"folders": folders})


@blueprint.get("/api/v2/folder/<folder_id>/list")
def get_lists(folder_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    if folder_id not in state.folders:
        raise ClickUpError(404, "Folder not found", "CAT_014")
    archived = _flag("archived")
    lists = [
        state.list_json(li)
        for li in state.lists.values()
        if li["folder_id"] == folder_id and li["archived"] == archived
    ]
    return jsonify({"lists": lists})


@blueprint.get("/api/v2/space/<space_id>/list")
def get_folderless_lists(space_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    if space_id not in state.spaces:
        raise ClickUpError(404, "Space not found", "PROJ_005")
    archived = _flag("archived")
    lists = [
        state.list_json(li)
        for li in state.lists.values()
        if li["space_id"] == space_id and li["folder_id"] is None and li["archived"] == archived
    ]
    return jsonify({"lists": lists})


# -- tasks --------------------------------------------------------------------------------


@blueprint.get("/api/v2/list/<list_id>/task")
def get_tasks(list_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    _list_or_404(state, list_id)
    try:
        page = int(request.args.get("page", "0"))
    except ValueError:
        raise ClickUpError(400, "Page must be an integer", "INPUT_002") from None
    if page < 0:
        raise ClickUpError(400, "Page must be an integer", "INPUT_002")
    include_closed = _flag("include_closed")
    archived = _flag("archived")
    tags = {t.lower() for t in request.args.getlist("tags[]")}
    statuses = {s.lower() for s in request.args.getlist("statuses[]")}
    with state.lock:
        candidates = list(state.tasks.values())
    matching = [
        t
        for t in candidates
        if t["list_id"] == list_id
        and t["archived"] == archived
        and (include_closed or t["status"]["type"] != "closed")
        and (not tags or tags & set(t["tags"]))
        and (not statuses or t["status"]["status"].lower() in statuses)
    ]
    order_key = {"id": "id", "updated": "date_updated", "due_date": "due_date"}.get(
        request.args.get("order_by", "created"), "date_created"
    )
    matching.sort(key=lambda t: (t[order_key] is None, t[order_key] or 0, t["id"]), reverse=_flag("reverse"))
    start = page * PAGE_SIZE
    chunk = matching[start : start + PAGE_SIZE]
    return jsonify({"tasks": [state.task_json(t) for t in chunk], "last_page": start + PAGE_SIZE >= len(matching)})


@blueprint.post("/api/v2/list/<list_id>/task")
def create_task(list_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    _list_or_404(state, list_id)
    body = _json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ClickUpError(400, "Task name invalid", "INPUT_005")
    status = body.get("status", "to do")
    if not isinstance(status, str) or state._status(list_id, status) is None:
        raise ClickUpError(400, "Status does not exist", "CRTSK_001")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ClickUpError(400, "Tags must be an array of strings", "INPUT_003")
    assignees = body.get("assignees", [])
    if not isinstance(assignees, list) or not all(isinstance(a, int) for a in assignees):
        raise ClickUpError(400, "Assignees must be an array of user ids", "INPUT_003")
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise ClickUpError(400, "Priority invalid", "INPUT_004")
    due_date = body.get("due_date")
    if due_date is not None and (not isinstance(due_date, int) or isinstance(due_date, bool)):
        raise ClickUpError(400, "Due date must be Unix milliseconds", "INPUT_006")
    # markdown_content wins over description; markdown_description is the older name.
    markdown = body.get("markdown_content") or body.get("markdown_description") or body.get("description") or ""
    task = state.add_task(
        list_id,
        name,
        status=status,
        tags=tags,
        assignees=assignees,
        priority=priority,
        due_date_ms=due_date,
        markdown=str(markdown),
    )
    return jsonify(state.task_json(task))


@blueprint.get("/api/v2/task/<task_id>")
def get_task(task_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    return jsonify(state.task_json(_task_or_404(state, task_id)))


@blueprint.put("/api/v2/task/<task_id>")
def update_task(task_id: str) -> Response:
    state: ClickUpState = vendor_state("clickup")
    task = _task_or_404(state, task_id)
    body = _json_body()
    now_ms = int(state.clock() * 1000)
    changes: dict[str, Any] = {}
    if "status" in body:
        status = state._status(task["list_id"], str(body["status"]))
        if status is None:
            raise ClickUpError(400, "Status does not exist", "CRTSK_001")
        changes["status"] = status
        if status["type"] == "closed":
            changes["date_closed"] = task["date_closed"] or now_ms
        else:
            changes["date_closed"] = None
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise ClickUpError(400, "Task name invalid", "INPUT_005")
        changes["name"] = body["name"]
    if "markdown_content" in body or "description" in body:
        changes["markdown"] = str(body.get("markdown_content") or body.get("description") or "").strip()
    if "priority" in body:
        if body["priority"] is not None and body["priority"] not in PRIORITIES:
            raise ClickUpError(400, "Priority invalid", "INPUT_004")
        changes["priority"] = body["priority"]
    if "due_date" in body:
        changes["due_date"] = body["due_date"]
    if "archived" in body:
        changes["archived"] = bool(body["archived"])
    with state.lock:
        task.update(changes)
        task["date_updated"] = now_ms
    return jsonify(state.task_json(task))
