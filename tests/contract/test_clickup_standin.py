"""The ClickUp stand-in against ClickUp's OpenAPI spec, and the real ClickUpClient against the stand-in.

Responses are validated with jsonschema against the spec's own response schemas; the request
bodies the client sends against the spec's CreateTask / UpdateTask request schemas. The spec
has a few known errors (listed in `SPEC_ERRATA`); each one is patched narrowly and says why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from local.sandbox.app import Fault
from local.sandbox.clickup import SEED_TOKEN, ClickUpState
from savedesk.errors import TransientError, VendorError
from savedesk.integrations.clickup import ClickUpClient

SPEC_PATH = Path("/work/shared/fixtures/clickup-openapi.json")
SPEC_URI = "urn:clickup-openapi"
GET_TASK_ITEMS = "#/paths/~1v2~1task~1%7Btask_id%7D/get/responses/200/content/application~1json/schema/properties"

# Client lists, from docs/demo-client.md.
SEO, PAID_SOCIAL, ADS_TEAM = "901300011", "901300012", "901200777"


# -- the spec, with its known errors patched ----------------------------------------------

SPEC_ERRATA = """
1. `nullable: true` is OpenAPI 3.0; the spec declares 3.1 (JSON Schema 2020-12), which ignores it.
   Every `nullable` schema also accepts null here (e.g. Task.priority is null when unset).
2. `oneOf` lists that contain the empty schema `{}` can never pass (every value matches `{}` and
   one other branch); read as `anyOf` (List.status / List.priority).
3. GetTasks / CreateTask / UpdateTask type task `tags`, `assignees`, `watchers` as arrays of
   strings; the spec's own GetTask and the API's examples return objects ({"name": ...},
   user objects). They point at GetTask's item schemas here.
4. GetFolders types `folders` as one object with `lists` of strings; the API returns an array
   of folders whose `lists` are list objects.
"""


def _ok_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


def _load_spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    _fix_nullable_and_oneof(spec)  # errata 1 and 2
    for path, method in [  # erratum 3
        ("/v2/list/{list_id}/task", "get"),
        ("/v2/list/{list_id}/task", "post"),
        ("/v2/task/{task_id}", "put"),
    ]:
        schema = _ok_schema(spec, path, method)
        task_props = schema["properties"]["tasks"]["items"]["properties"] if method == "get" else schema["properties"]
        for name in ("tags", "assignees", "watchers"):
            task_props[name] = {"type": "array", "items": {"$ref": f"{GET_TASK_ITEMS}/{name}/items"}}
    folders = _ok_schema(spec, "/v2/space/{space_id}/folder", "get")  # erratum 4
    folder = folders["properties"]["folders"]
    list_item = _ok_schema(spec, "/v2/space/{space_id}/list", "get")["properties"]["lists"]["items"]
    folder["properties"]["lists"] = {"type": "array", "items": list_item}
    folders["properties"]["folders"] = {"type": "array", "items": folder}
    return spec


def _fix_nullable_and_oneof(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            node["type"] = [*types, "null"] if "null" not in types else types
        if "oneOf" in node and any(branch == {} for branch in node["oneOf"]):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _fix_nullable_and_oneof(value)
    elif isinstance(node, list):
        for value in node:
            _fix_nullable_and_oneof(value)


SPEC = _load_spec()
REGISTRY: Registry = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1").replace("{", "%7B").replace("}", "%7D") for p in parts)


def response_validator(path: str, method: str) -> Draft202012Validator:
    ref = f"{SPEC_URI}#/paths/{_pointer(path, method, 'responses', '200', 'content', 'application/json', 'schema')}"
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY)


def request_validator(path: str, method: str) -> Draft202012Validator:
    ref = f"{SPEC_URI}#/paths/{_pointer(path, method, 'requestBody', 'content', 'application/json', 'schema')}"
    return Draft202012Validator({"$ref": ref}, registry=REGISTRY)


def assert_valid(validator: Draft202012Validator, instance: Any) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def clickup_api(sandbox_server: tuple[str, Flask]) -> str:
    return f"{sandbox_server[0]}/clickup/api/v2"


@pytest.fixture
def clickup_state(sandbox_server: tuple[str, Flask]) -> ClickUpState:
    return sandbox_server[1].extensions["vendors"]["clickup"]


@pytest.fixture
def client(clickup_api: str) -> ClickUpClient:
    return ClickUpClient(clickup_api, SEED_TOKEN)


@pytest.fixture
def api(clickup_api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=clickup_api, headers={"Authorization": SEED_TOKEN}) as http:
        yield http


def calls(sandbox_server: tuple[str, Flask], path_contains: str = "", method: str | None = None) -> list[dict]:
    return sandbox_server[1].extensions["calls"].of("clickup", path_contains, method)


# -- responses against the spec -----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "spec_path"),
    [
        ("/team", "/v2/team"),
        ("/space/90120001/folder", "/v2/space/{space_id}/folder"),
        ("/folder/90130001/list", "/v2/folder/{folder_id}/list"),
        ("/space/90120002/list", "/v2/space/{space_id}/list"),
        (f"/list/{SEO}/task?page=0", "/v2/list/{list_id}/task"),
        (f"/list/{SEO}/task?page=1&include_closed=true", "/v2/list/{list_id}/task"),
    ],
)
def test_read_responses_match_the_spec(api: httpx.Client, url: str, spec_path: str) -> None:
    response = api.get(url)
    assert response.status_code == 200
    assert_valid(response_validator(spec_path, "get"), response.json())


def test_task_responses_match_the_spec(api: httpx.Client) -> None:
    created = api.post(
        f"/list/{ADS_TEAM}/task",
        json={"name": "Pause campaigns", "markdown_content": "**now**", "tags": ["savedesk-c1-ads"], "priority": 1},
    )
    assert created.status_code == 200
    assert_valid(response_validator("/v2/list/{list_id}/task", "post"), created.json())
    task_id = created.json()["id"]

    fetched = api.get(f"/task/{task_id}")
    assert_valid(response_validator("/v2/task/{task_id}", "get"), fetched.json())

    updated = api.put(f"/task/{task_id}", json={"status": "complete"})
    assert updated.status_code == 200
    assert_valid(response_validator("/v2/task/{task_id}", "put"), updated.json())


def test_task_shape_details(api: httpx.Client) -> None:
    task = api.get(f"/list/{SEO}/task").json()["tasks"][0]
    for key in ("date_created", "date_updated", "due_date"):
        assert isinstance(task[key], str) and task[key].isdigit() and len(task[key]) == 13  # ms as strings
    assert task["date_closed"] is None
    assert task["status"]["type"] in {"open", "custom"}
    assert set(task["status"]) >= {"status", "type", "color", "orderindex"}
    assert task["list"] == {"id": SEO, "name": "SEO retainer", "access": True}
    assert task["folder"]["id"] == "90130001"
    assert task["space"] == {"id": "90120001"}
    assert task["url"] == f"https://app.clickup.com/t/{task['id']}"
    assert all(set(tag) >= {"name"} for tag in task["tags"])


def test_paging_is_100_per_page(api: httpx.Client) -> None:
    first = api.get(f"/list/{SEO}/task", params={"page": 0}).json()
    second = api.get(f"/list/{SEO}/task", params={"page": 1}).json()
    assert (len(first["tasks"]), first["last_page"]) == (100, False)
    assert (len(second["tasks"]), second["last_page"]) == (5, True)
    assert not {t["id"] for t in first["tasks"]} & {t["id"] for t in second["tasks"]}


def test_filters(api: httpx.Client) -> None:
    all_seo = [
        task
        for page in (0, 1)
        for task in api.get(f"/list/{SEO}/task", params={"include_closed": "true", "page": page}).json()["tasks"]
    ]
    assert len(all_seo) == 108
    assert sum(t["status"]["type"] == "closed" for t in all_seo) == 3
    tagged = api.get(f"/list/{PAID_SOCIAL}/task", params={"tags[]": "paid-social"}).json()["tasks"]
    assert len(tagged) == 17
    assert api.get(f"/list/{PAID_SOCIAL}/task", params={"tags[]": "nope"}).json() == {"tasks": [], "last_page": True}
    assert api.get(f"/list/{SEO}/task", params={"archived": "true"}).json()["tasks"] == []


# -- auth, errors, rate limit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "ecode"),
    [({}, "OAUTH_017"), ({"Authorization": "pk_wrong"}, "OAUTH_019"), ({"Authorization": "Bearer nope"}, "OAUTH_019")],
)
def test_auth_failures_have_the_documented_shape(clickup_api: str, headers: dict[str, str], ecode: str) -> None:
    response = httpx.get(f"{clickup_api}/team", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"err", "ECODE"}
    assert body["ECODE"] == ecode
    if ecode == "OAUTH_017":
        assert body["err"] == "Authorization header required"


def test_personal_token_with_bearer_prefix_is_refused(clickup_api: str) -> None:
    # Personal tokens go raw; only OAuth access tokens take "Bearer".
    assert httpx.get(f"{clickup_api}/team", headers={"Authorization": f"Bearer {SEED_TOKEN}"}).status_code == 401


def test_oauth_token_works_as_bearer(clickup_api: str, clickup_state: ClickUpState) -> None:
    clickup_state.add_token("oauth-access-1")
    response = httpx.get(f"{clickup_api}/team", headers={"Authorization": "Bearer oauth-access-1"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/task/nope", None),
        ("PUT", "/task/nope", {"status": "complete"}),
        ("GET", "/list/1/task", None),
        ("POST", "/list/1/task", {"name": "x"}),
        ("GET", "/folder/1/list", None),
        ("GET", "/space/1/list", None),
        ("GET", "/space/1/folder", None),
    ],
)
def test_unknown_ids_are_404_with_ecode(api: httpx.Client, method: str, url: str, body: dict | None) -> None:
    response = api.request(method, url, json=body)
    assert response.status_code == 404
    assert set(response.json()) == {"err", "ECODE"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "x", "status": "no such status"},
        {"name": "x", "due_date": "2026-07-01"},
        {"name": "x", "priority": 9},
        {"name": "x", "tags": "seo"},
    ],
)
def test_invalid_create_is_400(api: httpx.Client, body: dict) -> None:
    response = api.post(f"/list/{ADS_TEAM}/task", json=body)
    assert response.status_code == 400
    assert set(response.json()) == {"err", "ECODE"}


def test_rate_limit_headers_and_429(api: httpx.Client, clickup_state: ClickUpState) -> None:
    clickup_state.clock = lambda: 1_790_000_000.0
    clickup_state.rate_limit = 3

    responses = [api.get("/team") for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "3" for r in responses)
    assert all(r.headers["X-RateLimit-Reset"] == "1790000060" for r in responses)
    assert set(responses[3].json()) == {"err", "ECODE"}

    clickup_state.clock = lambda: 1_790_000_060.0  # the next window
    assert api.get("/team").status_code == 200


def test_rate_limit_is_per_token(api: httpx.Client, clickup_api: str, clickup_state: ClickUpState) -> None:
    clickup_state.clock = lambda: 1_790_000_000.0
    clickup_state.rate_limit = 1
    clickup_state.add_token("pk_other")
    assert api.get("/team").status_code == 200
    assert api.get("/team").status_code == 429
    assert httpx.get(f"{clickup_api}/team", headers={"Authorization": "pk_other"}).status_code == 200


# -- the client against the stand-in ------------------------------------------------------


def test_client_lists_the_clients_lists(client: ClickUpClient) -> None:
    assert [(li.id, li.name) for li in client.lists_in_folder("90130001")] == [
        (SEO, "SEO retainer"),
        (PAID_SOCIAL, "Paid social"),
    ]
    assert client.lists_in_space("90120001") == []  # the client's lists all sit in its folder
    assert {li.id for li in client.lists_in_space("90120002")} == {"901200777", "901200999", "901200888"}


def test_client_reads_every_open_task_across_pages(client: ClickUpClient, sandbox_server: tuple[str, Flask]) -> None:
    seo = client.open_tasks(SEO)
    social = client.open_tasks(PAID_SOCIAL)

    assert len(seo) == 105
    assert len(social) == 17
    assert len({t.id for t in seo}) == 105
    assert all(t.status_type != "closed" and t.list_id == SEO for t in seo)
    assert [c["query"].get("page") for c in calls(sandbox_server, f"/list/{SEO}/task")] == [["0"], ["1"]]


def test_client_closes_every_open_task(client: ClickUpClient, clickup_state: ClickUpState) -> None:
    clickup_state.rate_limit = 1000  # the limit has its own test below
    for task in client.open_tasks(SEO):
        closed = client.close_task(task.id)
        assert closed.status == "complete" and closed.is_closed
    assert client.open_tasks(SEO) == []
    seo_tasks = [t for t in clickup_state.tasks.values() if t["list_id"] == SEO]
    assert all(t["date_closed"] is not None for t in seo_tasks)


def test_closing_a_big_client_outruns_the_rate_limit_and_a_rerun_finishes(
    client: ClickUpClient, clickup_state: ClickUpState
) -> None:
    # 122 open tasks cost 2 + 122 requests: more than ClickUp's 100 a minute. The step gets a
    # TransientError carrying the wait, and its re-run (open tasks only) picks up where it stopped.
    start = time.time()
    clickup_state.clock = lambda: start

    def close_all() -> None:
        for list_id in (SEO, PAID_SOCIAL):
            for task in client.open_tasks(list_id):
                client.close_task(task.id)

    with pytest.raises(TransientError, match="rate limited") as caught:
        close_all()
    assert caught.value.retry_after is not None and 50 < caught.value.retry_after <= 60
    still_open = [
        t
        for t in clickup_state.tasks.values()
        if t["list_id"] in (SEO, PAID_SOCIAL) and t["status"]["type"] != "closed"
    ]
    assert 0 < len(still_open) < 122  # progress was made and kept

    clickup_state.clock = lambda: start + 60  # the next window
    close_all()
    assert client.open_tasks(SEO) == [] and client.open_tasks(PAID_SOCIAL) == []


def test_client_close_with_unknown_status_is_permanent(client: ClickUpClient) -> None:
    task = client.open_tasks(PAID_SOCIAL)[0]
    with pytest.raises(VendorError, match="400 CRTSK_001"):
        client.close_task(task.id, status="done and dusted")


def test_client_create_then_dedupe_by_tag(client: ClickUpClient) -> None:
    tag = "savedesk-CASE-123-pause_ads"
    assert client.find_task_by_tag(ADS_TEAM, tag) is None

    created = client.create_task(
        ADS_TEAM, "Pause ad campaigns: Acme Dental Group", "**Stop spend** today", tags=[tag], priority=1
    )
    found = client.find_task_by_tag(ADS_TEAM, tag)
    assert found == created
    assert found.tags == [tag.lower()]

    client.close_task(created.id)
    assert client.find_task_by_tag(ADS_TEAM, tag) is not None  # a closed duplicate is still a duplicate


def test_client_request_bodies_match_the_spec(client: ClickUpClient, sandbox_server: tuple[str, Flask]) -> None:
    task = client.create_task(
        ADS_TEAM,
        "Pause ad campaigns",
        "- Meta\n- Google",
        due_date=date(2026, 7, 31),
        tags=["savedesk-c1-ads"],
        priority=2,
        assignees=[183],
    )
    client.create_task(ADS_TEAM, "Minimal", "")
    client.close_task(task.id)

    (full, minimal) = [c["request"] for c in calls(sandbox_server, "/task", "POST")]
    (update,) = [c["request"] for c in calls(sandbox_server, "/task/", "PUT")]
    create_schema = request_validator("/v2/list/{list_id}/task", "post")
    assert_valid(create_schema, full)
    assert_valid(create_schema, minimal)
    assert_valid(request_validator("/v2/task/{task_id}", "put"), update)
    assert full["due_date"] == 1785456000000


def test_client_auth_errors_are_permanent(clickup_api: str) -> None:
    with pytest.raises(VendorError, match="401 OAUTH_019"):
        ClickUpClient(clickup_api, "pk_revoked").get_task("whatever")


def test_client_unknown_task_is_permanent(client: ClickUpClient) -> None:
    with pytest.raises(VendorError, match="404 ITEM_013"):
        client.get_task("nope")


def test_client_waits_out_a_429_then_succeeds(client: ClickUpClient, sandbox_server: tuple[str, Flask]) -> None:
    sandbox_server[1].extensions["faults"].add(
        Fault(
            "clickup",
            "/task",
            429,
            {"err": "Rate limit reached", "ECODE": "APP_002"},
            headers={"X-RateLimit-Reset": "0", "X-RateLimit-Remaining": "0"},
        )
    )
    task = client.create_task(ADS_TEAM, "After the limit", "")
    assert task.name == "After the limit"
    assert [c["status"] for c in calls(sandbox_server, "/task", "POST")] == [429, 200]


def test_client_gives_a_long_rate_limit_back_to_the_workflow(clickup_api: str, clickup_state: ClickUpState) -> None:
    clickup_state.rate_limit = 0
    with pytest.raises(TransientError, match="rate limited") as caught:
        ClickUpClient(clickup_api, SEED_TOKEN, budget_seconds=lambda: 1.0).get_task("whatever")
    assert caught.value.retry_after is not None and caught.value.retry_after > 1


def test_client_server_error_is_transient(client: ClickUpClient, sandbox_server: tuple[str, Flask]) -> None:
    sandbox_server[1].extensions["faults"].add(Fault("clickup", "/task", 502, "<html>bad gateway</html>"))
    with pytest.raises(TransientError):
        client.open_tasks(SEO)
