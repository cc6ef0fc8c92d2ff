"""Pytest fixtures for the QuickBooks Desktop sandbox.

In a conftest: ``from sandboxes.qbwc.fixtures import qb_company, qbwc_factory  # noqa: F401``
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .company import QuickBooksCompany
from .qwc_file import QWCFile
from .web_connector import WebConnector

QBCompanyFactory = Callable[..., QuickBooksCompany]


@pytest.fixture
def qb_company_factory(tmp_path: Path) -> Iterator[QBCompanyFactory]:
    """``make(seed=42, transactions=300, tz="-05:00") -> QuickBooksCompany`` in tmp_path."""
    made: list[QuickBooksCompany] = []

    def make(seed: int = 42, transactions: int = 300, tz: str = "-05:00") -> QuickBooksCompany:
        path = tmp_path / f"company-{seed}-{transactions}-{len(made)}.sqlite"
        company = QuickBooksCompany.generate(seed=seed, transactions=transactions, path=path, tz=tz)
        made.append(company)
        return company

    yield make
    for company in made:
        company.close()


@pytest.fixture
def qb_company(qb_company_factory: QBCompanyFactory) -> QuickBooksCompany:
    """A small seeded company: seed 42, 300 transactions, UTC-05:00."""
    return qb_company_factory()


@pytest.fixture
def qbwc_factory(qb_company: QuickBooksCompany) -> Callable[..., WebConnector]:
    """``make(app_url, password="secret", user_name="qbwc", company=None, **WebConnector kwargs)``."""

    def make(app_url: str, password: str = "secret", user_name: str = "qbwc",  # noqa: S107
             company: QuickBooksCompany | None = None, **kwargs: Any) -> WebConnector:
        qwc = QWCFile(app_url=app_url, user_name=user_name,
                      owner_id="{" + str(uuid.uuid4()) + "}", file_id="{" + str(uuid.uuid4()) + "}",
                      qb_type="QBFS", app_name="sandbox test")
        return WebConnector(qwc=qwc, password=password, company=company or qb_company, **kwargs)

    return make
