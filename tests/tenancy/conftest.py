"""Fixtures for tenant administration tests."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.tenancy.helpers import Tenancy


@pytest.fixture
def tenancy(api: Api) -> Tenancy:
    """Tenant and API client administration over the real app (SQLite and PostgreSQL)."""
    return Tenancy(api)
