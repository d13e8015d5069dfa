"""The composition root: builds the store and the vendor clients from settings and secrets.

Built lazily and cached per container, so a function pays only for the clients it uses.
Tests hand the domain their own store and clients instead.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from savedesk.secrets import read_secret
from savedesk.settings import get_settings

if TYPE_CHECKING:
    from savedesk.integrations.stepfunctions import Workflow
    from savedesk.store import CaseStore


@cache
def store() -> CaseStore:
    from savedesk.store import CaseStore

    return CaseStore(get_settings().cases_table)


@cache
def workflow() -> Workflow:
    from savedesk.integrations.stepfunctions import Workflow

    return Workflow(get_settings().state_machine_arn)


def webhook_secrets() -> dict[str, Any]:
    return read_secret(get_settings().webhook_secrets_id)


def vendor_secrets() -> dict[str, Any]:
    return read_secret(get_settings().vendor_secrets_id)


def reset() -> None:
    """Forget cached clients and settings (tests that change the environment call this)."""
    store.cache_clear()
    workflow.cache_clear()
    get_settings.cache_clear()
