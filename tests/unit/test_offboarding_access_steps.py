"""The access side of the offboarding: DeactivateToplineAccess, CloseClickUpProjects, PauseAdCampaigns.

Steps run through the real runner and the real CaseStore (on moto); vendors are fakes, and the
stand-ins behind the real clients where the wire matters (paging, tags).
"""

from __future__ import annotations

import pytest

from local.sandbox import clickup as clickup_standin
from local.sandbox import topline as topline_standin
from local.sandbox.app import serve
from savedesk.errors import MissingClientData, TransientError, VendorError
from savedesk.integrations.clickup import ClickUpClient, due_date_ms
from savedesk.integrations.topline import ToplineClient
from savedesk.steps import close_clickup_projects, deactivate_topline_access, pause_ad_campaigns
from savedesk.steps.common import today
from savedesk.store import CaseStore
from tests.unit.step_fakes import (
    CASE_ID,
    Deps,
    FakeClickUp,
    FakeTopline,
    contract_review,
    demo_case,
    details,
    open_case,
    run,
)

TOPLINE = "DeactivateToplineAccess"
CLICKUP = "CloseClickUpProjects"
ADS = "PauseAdCampaigns"


# --------------------------------------------------------------------------- DeactivateToplineAccess


def test_topline_access_is_revoked_once(store: CaseStore) -> None:
    # Given the demo client with a Topline account
    open_case(store, demo_case())
    topline = FakeTopline()

    # When the step runs twice
    run(TOPLINE, deactivate_topline_access.run, store, Deps(topline=topline))
    run(TOPLINE, deactivate_topline_access.run, store, Deps(topline=topline))

    # Then Topline was asked once, with the case's idempotency key
    (call,) = topline.calls
    assert call["account_id"] == "tl_acme_001"
    assert call["idempotency_key"] == f"{CASE_ID}:DeactivateToplineAccess"
    assert CASE_ID in call["reason"]
    # And the details say what was switched off
    assert details(store, TOPLINE) == {
        "topline_account_id": "tl_acme_001",
        "deactivated_at": "2026-11-26T09:30:00+00:00",
        "users_deactivated": 3,
        "integrations_disconnected": ["google_ads", "meta_ads"],
    }


def test_topline_needs_the_account_id(store: CaseStore) -> None:
    open_case(store, demo_case(topline_account_id=None))
    with pytest.raises(MissingClientData, match=r"topline_account_id.*re-run this step"):
        run(TOPLINE, deactivate_topline_access.run, store, Deps(topline=FakeTopline()))


def test_access_still_on_after_deactivate_fails_the_step(store: CaseStore) -> None:
    # Given Topline that answers the deactivate but still shows an active user
    open_case(store, demo_case())

    # When the step runs, Then it fails (no retry: a person must look) and is not recorded as done
    with pytest.raises(VendorError, match=r"\[DeactivateToplineAccess\] topline: account still active"):
        run(TOPLINE, deactivate_topline_access.run, store, Deps(topline=FakeTopline(still_active=True)))
    assert store.get_step(CASE_ID, TOPLINE)["status"] == "STARTED"  # type: ignore[index]


def test_topline_against_the_standin(store: CaseStore) -> None:
    with serve() as (base_url, app):
        # Given the demo account in the Topline stand-in: active, 3 users, 3 integrations
        client = ToplineClient(f"{base_url}/topline", topline_standin.API_KEY, budget_seconds=lambda: 5.0)
        open_case(store, demo_case())

        # When the step runs
        run(TOPLINE, deactivate_topline_access.run, store, Deps(topline=client))

        # Then the account is off in Topline, and the details match it
        account = client.get_account("tl_acme_001")
        assert account.access_revoked
        recorded = details(store, TOPLINE)
        assert recorded["users_deactivated"] == 3
        assert sorted(recorded["integrations_disconnected"]) == ["ga4", "google_ads", "meta_ads"]
        assert recorded["deactivated_at"] is not None
        (deactivate,) = app.extensions["calls"].of("topline", "/deactivate", method="POST")
        assert deactivate["headers"]["Idempotency-Key"] == f"{CASE_ID}:DeactivateToplineAccess"


# --------------------------------------------------------------------------- CloseClickUpProjects


def clickup_workspace() -> FakeClickUp:
    """Two lists in the client's folder, one folderless list in the space, one closed task."""
    clickup = FakeClickUp()
    clickup.add_list("L1", "SEO retainer", open_tasks=40, folder="90130001")
    clickup.add_list("L2", "Paid social", open_tasks=12, folder="90130001")
    clickup.add_list("L3", "Onboarding", open_tasks=3, space="90120001")
    done = clickup.create_task("L1", "Already done", markdown="")
    clickup.close_task(done.id)
    clickup.closed.clear()
    return clickup


def test_every_open_task_of_the_folder_is_closed(store: CaseStore) -> None:
    # Given a client with their folder in the agency's shared space (both on file, as for the demo client)
    open_case(store, demo_case(clickup_space_id="90120001"))
    clickup = clickup_workspace()

    # When the step runs twice
    run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))
    run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))

    # Then each open task of the folder's two lists was closed once
    assert len(clickup.closed) == 52 and len(set(clickup.closed)) == 52
    assert not clickup.open_tasks("L1") and not clickup.open_tasks("L2")
    # And the shared space's folderless list is not the client's to close
    assert len(clickup.open_tasks("L3")) == 3
    recorded = details(store, CLICKUP)
    assert recorded["closed"] == 52
    assert recorded["lists"] == [
        {"id": "L1", "name": "SEO retainer", "closed": 40},
        {"id": "L2", "name": "Paid social", "closed": 12},
    ]
    assert sorted(recorded["closed_task_ids"]) == sorted(clickup.closed)


def test_without_a_folder_the_spaces_folderless_lists_are_closed(store: CaseStore) -> None:
    # Given a client with their own space and no folder on file
    open_case(store, demo_case(clickup_folder_id=None, clickup_space_id="90120001"))
    clickup = clickup_workspace()

    # When the step runs
    run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))

    # Then the space's folderless list is closed out
    assert not clickup.open_tasks("L3")
    assert details(store, CLICKUP)["lists"] == [{"id": "L3", "name": "Onboarding", "closed": 3}]


def test_a_retry_after_a_timeout_resumes_without_reclosing(store: CaseStore) -> None:
    # Given a run that timed out after closing 30 of the folder's 52 open tasks
    open_case(store, demo_case())
    clickup = clickup_workspace()
    clickup.fail_after_closes = 30
    with pytest.raises(TransientError):
        run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))
    assert len(clickup.closed) == 30

    # When the workflow retries the step
    run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))

    # Then it closed only the remaining 22, and the record counts all 52
    assert len(clickup.closed) == 52 and len(set(clickup.closed)) == 52
    assert details(store, CLICKUP)["closed"] == 52
    # And progress was logged every 25 tasks: once in the first run (30 closed), not in the second (22)
    progress = [e["detail"] for e in store.events(CASE_ID) if e["kind"] == "progress"]
    assert [p["closed_this_run"] for p in progress] == [25]


def test_repeated_timeouts_on_one_task_do_not_stop_the_step(store: CaseStore) -> None:
    # Given a task whose close times out in three runs in a row (ClickUp rate limit, slow API)
    open_case(store, demo_case())
    clickup = clickup_workspace()
    for _ in range(3):
        clickup.fail_after_closes = 0
        with pytest.raises(TransientError):
            run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))

    # When the workflow retries once more
    run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=clickup))

    # Then the step finished (a close is safe to repeat, so failed tries do not pile up as unconfirmed)
    assert details(store, CLICKUP)["closed"] == 52


def test_clickup_needs_a_folder_or_space(store: CaseStore) -> None:
    open_case(store, demo_case(clickup_folder_id=None, clickup_space_id=None))
    with pytest.raises(MissingClientData, match=r"clickup_folder_id or clickup_space_id.*re-run this step"):
        run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=FakeClickUp()))


def test_clickup_against_the_standin_pages_and_lists(store: CaseStore) -> None:
    with serve() as (base_url, app):
        # Given the demo workspace: 105 open tasks in "SEO retainer" (two pages) and 17 in "Paid social"
        state = app.extensions["vendors"]["clickup"]
        state.rate_limit = 1000  # the step's own pace is not under test here
        client = ClickUpClient(f"{base_url}/clickup/api/v2", clickup_standin.SEED_TOKEN, budget_seconds=lambda: 5.0)
        open_case(store, demo_case())
        internal_before = client.open_tasks(clickup_standin.ACCOUNT_MANAGEMENT_LIST_ID)

        # When the step runs
        run(CLICKUP, close_clickup_projects.run, store, Deps(clickup=client))

        # Then both of the client's lists are empty of open tasks, and internal lists are untouched
        assert client.open_tasks(clickup_standin.SEO_LIST_ID) == []
        assert client.open_tasks(clickup_standin.PAID_SOCIAL_LIST_ID) == []
        assert client.open_tasks(clickup_standin.ACCOUNT_MANAGEMENT_LIST_ID) == internal_before
        recorded = details(store, CLICKUP)
        assert recorded["closed"] == 122
        assert {lst["name"]: lst["closed"] for lst in recorded["lists"]} == {"SEO retainer": 105, "Paid social": 17}
        assert len(app.extensions["calls"].of("clickup", "/task/", method="PUT")) == 122


# --------------------------------------------------------------------------- PauseAdCampaigns


def test_the_ads_team_gets_one_urgent_task(store: CaseStore) -> None:
    # Given a client whose contract ends on 31 Jan 2099
    open_case(store, demo_case(review=contract_review(effective_end_date="2099-01-31")))
    clickup = FakeClickUp()

    # When the step runs twice
    run(ADS, pause_ad_campaigns.run, store, Deps(clickup=clickup))
    run(ADS, pause_ad_campaigns.run, store, Deps(clickup=clickup))

    # Then one task went to the ads team's list: due today, urgent, tagged with the case
    (task,) = clickup.created
    assert task["list_id"] == "901200777"
    assert task["due_date"] == today()
    assert task["priority"] == 1
    assert task["tags"] == [f"savedesk-{CASE_ID}-ads", "savedesk", "offboarding"]
    # And its description has what the ads team needs, as a checklist
    markdown = task["markdown"]
    for expected in (
        "Acme Dental Group",
        "tl_acme_001",
        "31 Jan 2099",
        "Priya Natarajan",
        "- [ ] Pause every campaign on Google Ads",
        "Meta",
        "LinkedIn",
        "payment methods",
        "Confirm here in this task",
    ):
        assert expected in markdown
    assert details(store, ADS) == {"clickup_task_id": "t0001", "list_id": "901200777"}


def test_an_ads_task_from_a_lost_run_is_found_not_duplicated(store: CaseStore) -> None:
    # Given the ads task already exists (a run created it, then died before recording its id)
    open_case(store, demo_case())
    clickup = FakeClickUp()
    earlier = clickup.create_task("901200777", "Pause all ad campaigns", markdown="", tags=[f"savedesk-{CASE_ID}-ads"])
    clickup.created.clear()

    # When the step runs
    run(ADS, pause_ad_campaigns.run, store, Deps(clickup=clickup))

    # Then it records the existing task instead of creating another
    assert clickup.created == []
    assert details(store, ADS)["clickup_task_id"] == earlier.id


def test_ads_task_against_the_standin_survives_a_forced_rerun(store: CaseStore) -> None:
    with serve() as (base_url, app):
        # Given the real ClickUp client against the stand-in
        client = ClickUpClient(f"{base_url}/clickup/api/v2", clickup_standin.SEED_TOKEN, budget_seconds=lambda: 5.0)
        open_case(store, demo_case())
        deps = Deps(clickup=client)

        # When the step runs, and ops force it again
        run(ADS, pause_ad_campaigns.run, store, deps)
        run(ADS, pause_ad_campaigns.run, store, deps, rerun=["PauseAdCampaigns"], force=True)

        # Then the ads list holds one task for the case, urgent and due today
        tasks = [t for t in client.open_tasks(clickup_standin.ADS_TEAM_LIST_ID) if f"savedesk-{CASE_ID}-ads" in t.tags]
        assert len(tasks) == 1
        assert details(store, ADS)["clickup_task_id"] == tasks[0].id
        (create,) = app.extensions["calls"].of("clickup", "/list/901200777/task", method="POST")
        assert create["request"]["priority"] == 1
        assert create["request"]["due_date"] == due_date_ms(today())
