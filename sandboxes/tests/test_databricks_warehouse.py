# Fixtures are imported by name, so each use looks like a redefinition to ruff.
# ruff: noqa: F811
"""The local Databricks SQL warehouse, driven by the unmodified databricks-sql-connector.

Everything here shares one Spark engine for the pytest session; each test works in its own
schema so tests stay independent.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests
from databricks.sql.exc import DatabaseError, Error, RequestError
from sandboxes.databricks import LocalWarehouse
from sandboxes.databricks.faults import Faults
from sandboxes.databricks.fixtures import (  # noqa: F401
    databricks_engine,
    databricks_faults,
    shared_warehouse,
    unique_schema,
)
from sandboxes.loopback_http import loopback_session
from urllib3.exceptions import MaxRetryError

# The connector's own retry settings at their smallest allowed values, so tests fail in seconds.
FAST_RETRIES: dict[str, Any] = {
    "_retry_stop_after_attempts_count": 4,
    "_retry_delay_min": 0.1,
    "_retry_delay_max": 5,
    "_retry_stop_after_attempts_duration": 30,
    "_retry_delay_default": 1,
}
NO_RETRIES: dict[str, Any] = {"_retry_stop_after_attempts_count": 1}
# Once urllib3's retries inside the connector run out, connector 4.9 lets urllib3's
# MaxRetryError escape instead of wrapping it in its own RequestError.
TRANSIENT_FAILURES = (RequestError, MaxRetryError)


@pytest.fixture
def schema(databricks_engine: LocalWarehouse) -> str:
    name = unique_schema()
    with databricks_engine.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {databricks_engine.catalog}.{name}")
    # Left in place: Iceberg's hadoop catalog refuses DROP SCHEMA ... CASCADE on a non-empty
    # schema, and the engine's warehouse directory is discarded with the session anyway.
    return f"{databricks_engine.catalog}.{name}"


def run(engine: LocalWarehouse, *statements: str, **connect: Any) -> list[Any]:
    """Execute statements on one connection; return the last one's rows."""
    rows: list[Any] = []
    with engine.connect(**connect) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            rows = cursor.fetchall() if cursor.description else []
    return rows


# SQL round trips -----------------------------------------------------------------------------


def test_three_part_names_create_insert_and_select(databricks_engine: LocalWarehouse, schema: str) -> None:
    rows = run(
        databricks_engine,
        f"CREATE TABLE IF NOT EXISTS {schema}.invoices (id STRING, total DECIMAL(18,2))",
        f"INSERT INTO {schema}.invoices VALUES ('1', 10.50), ('2', 3.25)",
        f"SELECT id, total FROM {schema}.invoices ORDER BY id",
    )
    assert [(r.id, r.total) for r in rows] == [("1", Decimal("10.50")), ("2", Decimal("3.25"))]


def test_parameterised_multi_row_insert_keeps_decimal_38_10_exact(
    databricks_engine: LocalWarehouse, schema: str
) -> None:
    amounts = [
        Decimal("1234567890123456789012345678.0123456789"),
        Decimal("-0.0000000001"),
        Decimal("0.1"),
    ]
    # Inline: the connector renders each Decimal as a literal. (Natively it would declare the
    # parameter's type itself, and it declares Decimal("-1E-10") as DECIMAL(6,0), which any
    # warehouse then rounds to 0; target-databricks sends money as text and casts in SQL.)
    with databricks_engine.connect(use_inline_params=True) as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {schema}.lines (id BIGINT, amount DECIMAL(38,10), memo STRING)")
        cursor.executemany(
            f"INSERT INTO {schema}.lines VALUES (%(id)s, %(amount)s, %(memo)s)",
            [
                {"id": i, "amount": amount, "memo": "it's \"quoted\"; --"}
                for i, amount in enumerate(amounts)
            ],
        )
        cursor.execute(f"SELECT amount, memo FROM {schema}.lines ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute(f"SELECT sum(amount) AS total FROM {schema}.lines")
        total = cursor.fetchone().total
    assert [r.amount for r in rows] == amounts
    assert {r.memo for r in rows} == {"it's \"quoted\"; --"}
    with decimal.localcontext(prec=60):
        assert total == sum(amounts)


def test_native_parameters_arrive_as_values_not_sql(databricks_engine: LocalWarehouse) -> None:
    # A JSON payload of nested JSON, quotes and backslashes: what target-databricks sends as
    # one parameter. A warehouse binds it as a value; nothing in it is parsed as SQL.
    payload = json.dumps([[json.dumps({"memo": "it's \\ \"quoted\"", "amount": "0.10"})]] * 2000)
    with databricks_engine.connect() as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) AS n, max(r[0]) AS first, :memo AS memo, :amount AS amount "
            "FROM (SELECT explode(from_json(:rows, 'ARRAY<ARRAY<STRING>>')) AS r)",
            {"rows": payload, "memo": "'; DROP TABLE x; --", "amount": Decimal("12.30")},
        )
        rows = cursor.fetchall()
    assert rows[0].n == 2000
    assert json.loads(rows[0].first) == {"memo": "it's \\ \"quoted\"", "amount": "0.10"}
    assert rows[0].memo == "'; DROP TABLE x; --" and rows[0].amount == Decimal("12.30")


def test_parameters_past_the_documented_1_mb_are_refused(databricks_engine: LocalWarehouse) -> None:
    with databricks_engine.connect(**NO_RETRIES) as connection, connection.cursor() as cursor:
        with pytest.raises(TRANSIENT_FAILURES):
            cursor.execute("SELECT length(:s)", {"s": "x" * 1_000_001})
        cursor.execute("SELECT length(:s) AS n", {"s": "x" * 1_000_000})
        assert cursor.fetchone().n == 1_000_000


def test_timestamps_are_stored_as_utc_instants(databricks_engine: LocalWarehouse, schema: str) -> None:
    berlin = dt.timezone(dt.timedelta(hours=2))
    with databricks_engine.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {schema}.events (id INT, at TIMESTAMP, on_day DATE)")
        # Inline parameters render datetimes as strings; ANSI store assignment needs the CAST.
        cursor.execute(
            f"INSERT INTO {schema}.events VALUES "
            "(1, CAST(%(at)s AS TIMESTAMP), CAST(%(day)s AS DATE))",
            {"at": dt.datetime(2024, 3, 1, 12, 30, tzinfo=berlin), "day": dt.date(2024, 3, 1)},
        )
        cursor.execute(f"SELECT at, on_day, date_format(at, 'yyyy-MM-dd HH:mm:ssXXX') AS iso FROM {schema}.events")
        row = cursor.fetchone()
    assert row.iso == "2024-03-01 10:30:00Z"
    assert row.at.replace(tzinfo=dt.UTC) == dt.datetime(2024, 3, 1, 10, 30, tzinfo=dt.UTC)
    assert row.on_day == dt.date(2024, 3, 1)


def test_merge_update_delete_and_add_columns_change_the_table(
    databricks_engine: LocalWarehouse, schema: str
) -> None:
    table = f"{schema}.customers"
    rows = run(
        databricks_engine,
        f"CREATE TABLE {table} (id STRING, name STRING, version BIGINT)",
        f"INSERT INTO {table} VALUES ('1', 'Ada', 1), ('2', 'Bob', 1), ('3', 'Cy', 5)",
        f"""MERGE INTO {table} AS t
            USING (SELECT '2' AS id, 'Bobby' AS name, 2 AS version
                   UNION ALL SELECT '3', 'stale', 4
                   UNION ALL SELECT '4', 'Dee', 1) AS s
            ON t.id = s.id
            WHEN MATCHED AND s.version >= t.version THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *""",
        f"UPDATE {table} SET name = upper(name) WHERE id = '1'",
        f"DELETE FROM {table} WHERE id = '4'",
        f"ALTER TABLE {table} ADD COLUMNS (balance DECIMAL(18,2))",
        f"UPDATE {table} SET balance = 12.34 WHERE id = '2'",
        f"SELECT id, name, version, balance FROM {table} ORDER BY id",
    )
    assert [tuple(r) for r in rows] == [
        ("1", "ADA", 1, None),
        ("2", "Bobby", 2, Decimal("12.34")),
        ("3", "Cy", 5, None),
    ]


def test_describe_shows_added_columns_and_types(databricks_engine: LocalWarehouse, schema: str) -> None:
    rows = run(
        databricks_engine,
        f"CREATE TABLE {schema}.t (id BIGINT)",
        f"ALTER TABLE {schema}.t ADD COLUMNS (amount DECIMAL(38,10), seen TIMESTAMP)",
        f"DESCRIBE TABLE {schema}.t",
    )
    assert [(r.col_name, r.data_type) for r in rows][:3] == [
        ("id", "bigint"),
        ("amount", "decimal(38,10)"),
        ("seen", "timestamp"),
    ]


def test_connect_with_catalog_and_schema_sets_the_session_namespace(
    databricks_engine: LocalWarehouse, schema: str
) -> None:
    catalog, name = schema.split(".")
    rows = run(
        databricks_engine,
        "CREATE TABLE unqualified (id INT)",
        "SELECT current_catalog() AS c, current_database() AS s",
        catalog=catalog,
        schema=name,
    )
    assert (rows[0].c, rows[0].s) == (catalog, name)
    shown = run(databricks_engine, f"SHOW TABLES IN {schema}")
    assert [r.tableName for r in shown] == ["unqualified"]


def test_connect_to_a_missing_schema_fails_with_schema_not_found(databricks_engine: LocalWarehouse) -> None:
    with pytest.raises(Error, match="SCHEMA_NOT_FOUND"):
        databricks_engine.connect(catalog=databricks_engine.catalog, schema="no_such_schema", **NO_RETRIES)


def test_sql_error_reaches_the_client_as_error_class_and_message(databricks_engine: LocalWarehouse) -> None:
    with pytest.raises(DatabaseError) as raised:
        run(databricks_engine, "SELECT * FROM main.nowhere.nothing")
    assert str(raised.value).startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert "\tat org.apache" not in str(raised.value)


def test_large_select_returns_every_row(databricks_engine: LocalWarehouse) -> None:
    with databricks_engine.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, concat('row-', id) AS label FROM range(250000)")
        rows = cursor.fetchall()
    assert len(rows) == 250_000
    assert rows[-1].id == 249_999 and rows[-1].label == "row-249999"
    assert len({r.id for r in rows}) == 250_000


def test_small_pages_walk_the_whole_result(databricks_engine: LocalWarehouse) -> None:
    with databricks_engine.connect() as connection, connection.cursor(arraysize=1000) as cursor:
        cursor.execute("SELECT id FROM range(2500)")
        first = cursor.fetchmany(1000)
        rest = cursor.fetchall()
    assert [r.id for r in first + rest] == list(range(2500))


def test_concurrent_connections_each_get_their_own_complete_results(
    databricks_engine: LocalWarehouse,
) -> None:
    def count_up_to(n: int) -> tuple[int, int]:
        with databricks_engine.connect() as connection, connection.cursor(arraysize=5000) as cursor:
            cursor.execute(f"SELECT id FROM range({n})")
            ids = [row.id for row in cursor.fetchall()]
        return len(ids), sum(ids)

    sizes = [12_000, 7_001, 20_000]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(count_up_to, sizes))
    assert results == [(n, n * (n - 1) // 2) for n in sizes]


def test_the_session_shares_one_engine(
    databricks_engine: LocalWarehouse, pytestconfig: pytest.Config
) -> None:
    pid = databricks_engine.engine.pid if databricks_engine.engine else None
    again = shared_warehouse(pytestconfig)
    assert again is databricks_engine
    assert again.engine is not None and again.engine.pid == pid


# Authentication ------------------------------------------------------------------------------


def test_wrong_bearer_token_is_refused(databricks_engine: LocalWarehouse, databricks_faults: Faults) -> None:
    with pytest.raises(RequestError, match="Invalid access token"):
        databricks_engine.connect(access_token="dapi-not-a-real-token", **NO_RETRIES)
    assert databricks_faults.count("warehouse.unauthorised") == 1


def test_request_without_bearer_token_gets_401(databricks_engine: LocalWarehouse) -> None:
    response = loopback_session(databricks_engine.ca_file).post(
        databricks_engine.host_url + databricks_engine.http_path,
        data=b"\x80\x01\x00\x01\x00\x00\x00\x0bOpenSession\x00\x00\x00\x00\x00",
        headers={"Content-Type": "application/x-thrift"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"


def test_expired_tokens_are_refused_and_a_rotated_token_works(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    old = databricks_engine.access_token
    assert run(databricks_engine, "SELECT 1 AS one")[0].one == 1
    databricks_faults.expire_tokens()
    with pytest.raises(RequestError):
        run(databricks_engine, "SELECT 1", access_token=old, **NO_RETRIES)
    new = databricks_engine.credentials.add_personal_token()
    assert run(databricks_engine, "SELECT 2 AS two", access_token=new)[0].two == 2


def test_token_expiring_mid_connection_fails_the_next_statement(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    with databricks_engine.connect(**NO_RETRIES) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        databricks_faults.expire_tokens()
        with pytest.raises(RequestError):
            cursor.execute("SELECT 2")
    assert databricks_faults.count("warehouse.unauthorised") >= 1


def _m2m_credentials_provider(engine: LocalWarehouse) -> Any:
    from databricks.sdk.core import Config, oauth_service_principal

    def provider() -> Any:
        config = Config(host=engine.host_url, client_id=engine.client_id, client_secret=engine.client_secret)
        return oauth_service_principal(config)

    return provider


def test_service_principal_oauth_m2m_through_databricks_sdk(
    databricks_engine: LocalWarehouse, databricks_faults: Faults, monkeypatch: pytest.MonkeyPatch
) -> None:
    # databricks-sdk talks to the token endpoint with requests, which trusts REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", databricks_engine.ca_file)
    rows = run(
        databricks_engine,
        "SELECT current_user() AS who",
        credentials_provider=_m2m_credentials_provider(databricks_engine),
    )
    assert rows[0].who
    assert databricks_faults.count("oauth.token_requests") == 1


def _client_credentials_grant(engine: LocalWarehouse, client_secret: str | None = None) -> requests.Response:
    """POST the workspace token endpoint with the engine's client id (and its secret by default)."""
    return loopback_session(engine.ca_file).post(
        engine.host_url + "/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(engine.client_id, client_secret or engine.client_secret),
        timeout=10,
    )


def test_token_endpoint_refuses_a_wrong_client_secret(databricks_engine: LocalWarehouse) -> None:
    response = _client_credentials_grant(databricks_engine, "wrong-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_oauth_tokens_expire_after_their_lifetime(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    databricks_engine.credentials.oauth_lifetime_s = 0
    response = _client_credentials_grant(databricks_engine)
    assert response.status_code == 200 and response.json()["expires_in"] == 0
    with pytest.raises(RequestError):
        databricks_engine.connect(access_token=response.json()["access_token"], **NO_RETRIES)


# Faults --------------------------------------------------------------------------------------


def test_warehouse_starting_503_is_retried_by_the_connector(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    # One fault only: connector 4.9 sleeps at least _retry_delay_max (>= 5 s) before each retry.
    databricks_faults.fail_next(1, http_status=503, retry_after=1, method="ExecuteStatement")
    rows = run(databricks_engine, "SELECT 41 + 1 AS answer", **FAST_RETRIES)
    assert rows[0].answer == 42
    assert databricks_faults.count("faults.failed") == 1
    assert databricks_faults.count("thrift.ExecuteStatement") == 2


def test_503_outlasting_the_retry_budget_surfaces_as_a_transient_error(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    databricks_faults.fail_next(10, http_status=503, method="OpenSession")
    # A 1 s budget is shorter than the connector's smallest wait (5 s): it gives up at once.
    with pytest.raises(TRANSIENT_FAILURES):
        databricks_engine.connect(**(FAST_RETRIES | {"_retry_stop_after_attempts_duration": 1}))
    assert databricks_faults.count("faults.failed") == 1


def test_dropped_connection_is_retried_by_the_connector(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    with databricks_engine.connect(**FAST_RETRIES) as connection, connection.cursor() as cursor:
        databricks_faults.drop_next(1, method="ExecuteStatement")
        cursor.execute("SELECT 7 AS seven")
        assert cursor.fetchone().seven == 7
    assert databricks_faults.count("faults.dropped") == 1
    assert databricks_faults.count("thrift.ExecuteStatement") == 2


def test_connections_dropped_every_time_surface_as_a_transient_error(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    with databricks_engine.connect(**FAST_RETRIES) as connection, connection.cursor() as cursor:
        databricks_faults.drop_next(20, method="ExecuteStatement")
        with pytest.raises(TRANSIENT_FAILURES):
            cursor.execute("SELECT 1")
        databricks_faults.clear()
        cursor.execute("SELECT 8 AS eight")
        assert cursor.fetchone().eight == 8
    assert databricks_faults.count("faults.dropped") >= 2


def test_token_endpoint_faults_are_separate_from_warehouse_faults(
    databricks_engine: LocalWarehouse, databricks_faults: Faults
) -> None:
    databricks_faults.fail_next(1, http_status=503, endpoint="token")
    first = _client_credentials_grant(databricks_engine)
    second = _client_credentials_grant(databricks_engine)
    assert (first.status_code, second.status_code) == (503, 200)
    assert run(databricks_engine, "SELECT 1 AS one")[0].one == 1
