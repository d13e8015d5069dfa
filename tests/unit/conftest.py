"""Fixtures the unit tests share: moto's DynamoDB for a test module, a fresh cases table per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from savedesk.store import CaseStore
from tests.unit.step_fakes import moto_dynamodb, new_case_store


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    """moto's DynamoDB client, one per test module (starting moto per test costs half a second)."""
    with moto_dynamodb() as client:
        yield client


@pytest.fixture
def store(dynamodb: Any) -> CaseStore:
    """The real CaseStore over a fresh cases table built from template.yaml."""
    return new_case_store(dynamodb)
