"""The full ETL on the demo, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import Warehouse

LBBD = "London Borough of Barking and Dagenham"


def test_barking_and_dagenham_2013_14_funding_is_823500_from_six_funders(warehouse: Warehouse) -> None:
    funding = warehouse.rows(
        "SELECT sum(amount) AS total, count(DISTINCT funder_name) AS funders FROM mart_funding "
        "WHERE viewer_name = :name AND financial_year = '2013/14'",
        name=LBBD,
    )[0]
    assert Decimal(str(funding["total"])) == Decimal("823500")
    assert funding["funders"] == 6
