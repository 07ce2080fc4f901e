"""Fixtures for the access-policy tests."""

from __future__ import annotations

import pytest

from policies.loader import load_policy
from policies.models import Policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The packaged default policy, loaded once."""
    return load_policy()
