"""The DuckDB layer: views over the lake, saved queries, bound parameters, `distillwatch sql`."""

from __future__ import annotations

import argparse
import builtins
import re
import tomllib
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from distillwatch import analyst
from features.jobs import build_range
from tests.tiny_lake import PROMPT_MARKER, SYSTEM_MARKER, lake_day, tiny_lake, tiny_run

__all__ = ["tiny_lake", "tiny_run"]  # session fixtures used below

VIEWS = {
    "stg_events",
    "stg_quarantine",
    "stg_ingest_log",
    "stg_verdicts",
    "fct_account_hourly",
    "fct_account_daily",
    "account_links",
    "flags",
    "campaigns",
    "dim_accounts",
}


@pytest.fixture(scope="module")
def con(tiny_lake: Path, tiny_run: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Views over the shared lake, with its published run and its day's features."""
    first = datetime.combine(lake_day(tiny_lake), time())
    build_range(tiny_lake, first, first + timedelta(days=1))
    connection = analyst.connect(tiny_lake, run=tiny_run)
    yield connection
    connection.close()


def _count(con: duckdb.DuckDBPyConnection, view: str, where: str = "true") -> int:
    return con.execute(f"select count(*) from {view} where {where}").fetchall()[0][0]


# -- layout ------------------------------------------------------------------------------------
def test_every_sql_file_is_package_data_of_the_wheel() -> None:
    """An installed (not editable) distillwatch must carry its views and queries."""
    config = tomllib.loads((analyst.SQL_DIR.parent / "pyproject.toml").read_text())
    setuptools = config["tool"]["setuptools"]
    assert "sql*" in setuptools["packages"]["find"]["include"]
    patterns = setuptools["package-data"]
    files = sorted(analyst.SQL_DIR.rglob("*.sql"))
    assert len(files) >= 20
    for path in files:
        package = ".".join(path.parent.relative_to(analyst.SQL_DIR.parent).parts)
        assert any(path.match(p) for p in patterns.get(package, ())), path


def test_every_view_file_follows_the_jaffle_shop_shape() -> None:
    files = analyst.view_files()
    assert set(files) == VIEWS
    for name, path in files.items():
        text = path.read_text()
        assert text.startswith(f"-- {name}: "), f"{path} starts with a comment naming the view"
        assert re.search(r"^with$", text, re.MULTILINE), f"{path} uses import CTEs"
        assert text.rstrip().endswith("select * from final"), f"{path} ends with the final select"
        code = re.sub(r"--[^\n]*|'[^']*'", "", text)
        assert code == code.lower(), f"{path} has uppercase keywords or identifiers"


def test_views_come_after_the_views_they_read() -> None:
    order = list(analyst.view_files())
    assert order.index("flags") < order.index("campaigns")
    assert order.index("flags") < order.index("dim_accounts")
    assert order.index("stg_events") < order.index("dim_accounts")


def test_saved_queries_declare_their_parameters() -> None:
    for name, path in analyst.saved_queries().items():
        sql = path.read_text()
        used = set(re.findall(r"\$(\w+)", re.sub(r"--[^\n]*", "", sql)))
        assert used <= set(analyst.declared_parameters(sql)), f"{name} uses undeclared parameters"


# -- empty and missing folders -----------------------------------------------------------------
def test_views_over_an_empty_lake_are_empty_and_typed(tmp_path: Path) -> None:
    con = analyst.connect(tmp_path / "no-lake-here")
    for view in VIEWS:
        assert _count(con, view) == 0, view
    types = dict(
        con.execute("select column_name, column_type from (describe stg_events)").fetchall()
    )
    assert types["requested_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["template_sig"] == "UBIGINT"
    assert types["event_hour"] == "INTEGER"
    assert "vol_requests" in {c[0] for c in con.execute("describe fct_account_hourly").fetchall()}


# -- the shared lake ---------------------------------------------------------------------------
def test_staging_counts_reconcile_with_the_ingest_log(con: duckdb.DuckDBPyConnection) -> None:
    accepted = con.execute("select sum(n_accepted) from stg_ingest_log").fetchall()[0][0]
    assert _count(con, "stg_events") == accepted > 10_000


def test_no_view_exposes_prompt_text(tiny_lake: Path, con: duckdb.DuckDBPyConnection) -> None:
    lake_text = pl.read_parquet(next((tiny_lake / "events").rglob("*.parquet")))
    assert {"prompt", "system_prompt"} <= set(lake_text.columns), "the lake keeps text here"
    for view in VIEWS:
        columns = {c[0] for c in con.execute(f"describe {view}").fetchall()}
        assert not columns & {"prompt", "system_prompt", "raw"}, view
        text = con.sql(f"select * from {view}").pl().write_ndjson()
        assert PROMPT_MARKER not in text and SYSTEM_MARKER not in text, view


def test_marts_join_features_flags_and_accounts(con: duckdb.DuckDBPyConnection) -> None:
    flagged = _count(con, "flags")
    assert flagged > 0
    assert _count(con, "dim_accounts", "is_flagged") == flagged
    accounts = con.execute("select count(distinct account_id) from stg_events").fetchall()[0][0]
    assert _count(con, "dim_accounts") == accounts
    assert _count(con, "fct_account_hourly") > _count(con, "fct_account_daily") > 0
    assert _count(con, "account_links") > 0
    in_campaigns = con.execute("select sum(n_flagged_accounts) from campaigns").fetchall()[0][0]
    assert in_campaigns == _count(con, "flags", "is_in_campaign")


def test_every_saved_query_runs(con: duckdb.DuckDBPyConnection) -> None:
    campaign = con.execute("select campaign_id from campaigns limit 1").fetchall()[0][0]
    payment = con.execute(
        "select payment_fingerprint from stg_events where payment_fingerprint is not null limit 1"
    ).fetchall()[0][0]
    params = {
        "campaign_id": campaign,
        "indicator": "payment_fingerprint",
        "value": payment,
    }
    for name in analyst.saved_queries():
        result = analyst.run_query(con, name, params).pl()
        assert result.height > 0 or name == "quarantine_reasons", name


def test_parameters_are_bound_not_formatted(con: duckdb.DuckDBPyConnection) -> None:
    hostile = "x' or 1=1 --"
    result = analyst.run_query(con, "campaign_timeline", {"campaign_id": hostile}).pl()
    assert result.height == 0
    sql = "select count(*) as n from flags where account_id = $account"
    assert analyst.run_query(con, sql, {"account": hostile}).pl()["n"][0] == 0


def test_declared_defaults_apply_and_missing_parameters_are_reported(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert analyst.run_query(con, "top_campaigns", {"limit": 1}).pl().height == 1
    assert analyst.run_query(con, "top_campaigns").pl().height >= 1
    with pytest.raises(ValueError, match=r"\$campaign_id"):
        analyst.run_query(con, "campaign_timeline")


def test_command_line_values_are_typed() -> None:
    assert analyst.parse_params(["limit=5", "share=0.5", "id=cmp_1"]) == {
        "limit": 5,
        "share": 0.5,
        "id": "cmp_1",
    }
    with pytest.raises(ValueError, match="NAME=VALUE"):
        analyst.parse_params(["limit"])


# -- command line ------------------------------------------------------------------------------
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    analyst.add_arguments(parser)
    return parser.parse_args(argv)


def test_sql_command_prints_a_table(
    tiny_lake: Path, tiny_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert analyst.command(_args("top_campaigns", "--param", "limit=3"), tiny_lake) == 0
    out = capsys.readouterr().out
    assert "campaign_id" in out and "cmp_" in out


def test_sql_command_writes_csv_and_parquet(tiny_lake: Path, tmp_path: Path) -> None:
    query = "select account_id, tier from flags order by account_id"
    for name in ("flags.csv", "flags.parquet"):
        out = tmp_path / name
        assert analyst.command(_args(query, "--out", str(out)), tiny_lake) == 0
        frame = pl.read_csv(out) if out.suffix == ".csv" else pl.read_parquet(out)
        assert frame.columns == ["account_id", "tier"] and frame.height > 0


def test_sql_command_reports_bad_sql_and_missing_parameters(
    tiny_lake: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert analyst.command(_args("select * from no_such_view"), tiny_lake) == 1
    assert analyst.command(_args("campaign_timeline"), tiny_lake) == 2
    assert "campaign_id" in capsys.readouterr().err


def test_database_file_opens_without_distillwatch(tiny_lake: Path, tmp_path: Path) -> None:
    database = tmp_path / "lake.duckdb"
    assert analyst.command(_args("--database", str(database)), tiny_lake) == 0
    plain = duckdb.connect(str(database), read_only=True)
    assert plain.execute("select count(*) from stg_events").fetchall()[0][0] > 10_000
    assert plain.execute("select count(*) from campaigns").fetchall()[0][0] > 0
    plain.close()


def test_shell_repl_runs_statements_until_eof(
    tiny_lake: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = iter(["select count(*) as n_flags", "from flags;", "select nonsense;"])

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    monkeypatch.setattr(analyst.shutil, "which", lambda _: None)
    assert analyst.command(_args("--shell"), tiny_lake) == 0
    captured = capsys.readouterr()
    assert "n_flags" in captured.out
    assert "error:" in captured.err


def test_statements_split_on_terminating_semicolons() -> None:
    lines = ["select 1;", "select", "  2;", "select ';' ", "as x;", "select 3"]
    assert list(analyst.statements(iter(lines))) == [
        "select 1;",
        "select\n  2;",
        "select ';' \nas x;",
        "select 3",
    ]
