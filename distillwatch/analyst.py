"""DuckDB over the lake for analysts: the ``sql/`` views, saved queries and ``distillwatch sql``.

:func:`connect` opens a DuckDB connection (in memory, or a ``.duckdb`` file) in
which every view of ``sql/staging`` and ``sql/marts`` exists, reading the lake
in place:

* the macro ``lake_path(relative)`` gives a path under the lake root and
  ``export_path(relative)`` one under the published rescoring run
  (``<lake>/exports/latest`` unless another run folder is given); the views
  read Parquet through them, with ``hive_partitioning`` and ``union_by_name``;
* the schema ``contract`` holds one empty table per source with its declared
  types (from the pinned Arrow schemas of ``ingest``, ``features`` and
  ``models``); each view reads its files with ``allow_empty = true`` and
  appends ``contract.<source>`` with ``union all by name``, so a missing or
  empty folder gives an empty, correctly typed view instead of an error.

Because the macros and tables are stored in the catalog, a ``.duckdb`` file
written with ``--database`` opens in the ``duckdb`` CLI with every view working.

Saved queries live in ``sql/queries``, one file each. A query declares its
parameters in header comments, ``-- param $name: meaning`` (required) or
``-- param $name = default: meaning``; values are bound as prepared-statement
parameters (``$name``), never formatted into the SQL text. Values given on the
command line are read as integers or floats when they look like numbers.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sql

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: The SQL files, wherever the ``sql`` package is installed.
SQL_DIR = Path(sql.__file__).parent
#: View layers, in load order.
LAYERS: tuple[str, ...] = ("staging", "marts")
QUERIES = SQL_DIR / "queries"

_PARAM_DECLARATION = re.compile(r"^--\s*param\s+\$(\w+)\s*(?:=\s*(.*?))?\s*:", re.MULTILINE)
_PARAM_USE = re.compile(r"\$([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


# -- sources -------------------------------------------------------------------------------------
def contract_schemas() -> dict[str, pa.Schema]:
    """Declared schema of every source the views read, by ``contract`` table name.

    Hive partition keys (``date``, ``hour``, ``topic``, ``partition``) are
    included with the types the views give them.
    """
    import polars as pl
    import pyarrow as pa

    from features.jobs import scan_events
    from features.links import EDGE_SCHEMA
    from features.windows import window_features, window_key
    from ingest.schema import LAKE_SCHEMA, QUARANTINE_SCHEMA
    from models.exports import CAMPAIGNS_SCHEMA, FLAGGED_SCHEMA
    from models.maintenance import VERDICTS_SCHEMA

    def features(every: str) -> pa.Schema:
        model_first_seen = pl.DataFrame(
            schema={"model": pl.String, "first_seen": pl.Datetime("us", "UTC")}
        )
        keys: list[str | pl.Expr] = ["account_id", window_key(every)]
        frame = window_features(scan_events([]), keys, model_first_seen).collect()
        return frame.to_arrow().schema

    date, hour = pa.field("date", pa.date32()), pa.field("hour", pa.int32())
    return {
        "events": _with(LAKE_SCHEMA, date, hour),
        "quarantine": _with(
            QUARANTINE_SCHEMA, pa.field("topic", pa.string()), pa.field("partition", pa.int32())
        ),
        "ingest_log": _ingest_log_schema(),
        "verdicts": VERDICTS_SCHEMA,
        "account_hourly": _with(features("1h"), date, hour),
        "account_daily": _with(features("1d"), date),
        "links": _with(pl.DataFrame(schema=EDGE_SCHEMA).to_arrow().schema, date),
        "flagged_accounts": FLAGGED_SCHEMA,
        "campaigns": CAMPAIGNS_SCHEMA,
    }


def _ingest_log_schema() -> pa.Schema:
    """Fields of an ``ingest_log`` JSON entry, as the lake writer writes them."""
    import pyarrow as pa

    return pa.schema(
        [
            ("topic", pa.string()),
            ("partition", pa.int32()),
            ("first_offset", pa.int64()),
            ("last_offset", pa.int64()),
            ("consumed", pa.int64()),
            ("accepted", pa.int64()),
            ("rejected", pa.int64()),
            ("files", pa.list_(pa.string())),
            ("written_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def _with(schema: pa.Schema, *extra: pa.Field) -> pa.Schema:
    for field in extra:
        schema = schema.append(field)
    return schema


# -- views ---------------------------------------------------------------------------------------
def view_files() -> dict[str, Path]:
    """SQL file of every view, by view name, in an order where each follows its dependencies."""
    files = {
        path.stem: path for layer in LAYERS for path in sorted((SQL_DIR / layer).glob("*.sql"))
    }
    for name, path in files.items():
        if not _IDENTIFIER.match(name):
            raise ValueError(f"view file name is not a plain identifier: {path}")
    bodies = {name: _strip_comments(path.read_text()) for name, path in files.items()}
    ordered: dict[str, Path] = {}

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in trail:
            raise ValueError(f"views depend on each other in a cycle: {' -> '.join(trail)}")
        for other in files:
            if other != name and re.search(rf"\b(from|join)\s+{other}\b", bodies[name]):
                visit(other, (*trail, name))
        ordered[name] = files[name]

    for name in files:
        visit(name, ())
    return ordered


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _literal(text: str) -> str:
    """A SQL string literal (quotes doubled): for paths in DDL, which cannot take parameters."""
    return "'" + text.replace("'", "''") + "'"


def connect(
    lake: Path, database: Path | None = None, *, run: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake's views in place.

    Parameters
    ----------
    lake
        Root of the Parquet lake.
    database
        A ``.duckdb`` file to create or update with the views (in memory if None).
    run
        A published rescoring run folder (``.../exports/runs/<run>``) for the
        ``flags`` and ``campaigns`` views; default ``<lake>/exports/latest``.
    """
    import duckdb

    from models.publish import latest_dir

    con = duckdb.connect(str(database) if database is not None else ":memory:")
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema if not exists contract")
    for name, schema in contract_schemas().items():
        con.register("declared_source", schema.empty_table())
        con.execute(f"create or replace table contract.{name} as select * from declared_source")
        con.unregister("declared_source")
    exports = run if run is not None else latest_dir(lake)
    # Absolute, not resolved: a `latest` symlink is followed when a view is queried.
    root = _literal(str(lake.absolute()))
    con.execute(f"create or replace macro lake_path(relative) as {root} || '/' || relative")
    run_root = _literal(str(exports.absolute()))
    con.execute(f"create or replace macro export_path(relative) as {run_root} || '/' || relative")
    for name, path in view_files().items():
        con.execute(f"create or replace view {name} as {path.read_text()}")
    return con


# -- queries -------------------------------------------------------------------------------------
def saved_queries() -> dict[str, Path]:
    """The saved analyst queries, by name."""
    return {path.stem: path for path in sorted(QUERIES.glob("*.sql"))}


def resolve_query(query: str) -> str:
    """SQL text of ``query``: a saved query's name, a ``.sql`` file, or SQL itself."""
    saved = saved_queries()
    if query in saved:
        return saved[query].read_text()
    if query.endswith(".sql"):
        path = Path(query)
        if not path.exists():
            raise FileNotFoundError(f"no such query file: {query}")
        return path.read_text()
    return query


def declared_parameters(sql: str) -> dict[str, str | None]:
    """Parameters declared in ``-- param $name[ = default]:`` comments, with their defaults."""
    return {name: default or None for name, default in _PARAM_DECLARATION.findall(sql)}


def coerce(value: str) -> int | float | str:
    """A command-line parameter value: an int or float when it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def bind_parameters(sql: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters ``sql`` uses, from ``given`` or the declared defaults.

    Raises
    ------
    ValueError
        If a parameter the query uses has neither a value nor a default.
    """
    used = set(_PARAM_USE.findall(_strip_comments(sql)))
    declared = declared_parameters(sql)
    values: dict[str, Any] = {}
    for name in sorted(used):
        if name in given:
            values[name] = given[name]
        elif declared.get(name) is not None:
            values[name] = coerce(str(declared[name]))
        else:
            raise ValueError(f"the query needs a value for ${name}: pass --param {name}=VALUE")
    return values


def run_query(
    con: duckdb.DuckDBPyConnection, query: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyRelation:
    """Run a saved query, a ``.sql`` file or SQL text with bound parameters."""
    sql = resolve_query(query)
    return con.sql(sql, params=bind_parameters(sql, params or {}))


def write_result(relation: duckdb.DuckDBPyRelation, out: Path) -> Path:
    """Write a query result to ``out`` atomically: Parquet for ``.parquet``, else CSV."""
    from ingest.lake import atomic_path

    with atomic_path(out) as tmp:
        if out.suffix == ".parquet":
            relation.write_parquet(str(tmp))
        else:
            relation.write_csv(str(tmp))
    return out


# -- shell ---------------------------------------------------------------------------------------
def statements(lines: Iterator[str]) -> Iterator[str]:
    """SQL statements from input lines: text up to each ``;`` that ends a line."""
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(buffer).strip()
            buffer = []
    if "".join(buffer).strip():
        yield "\n".join(buffer).strip()


def _prompt_lines() -> Iterator[str]:
    prompt = "distillwatch> "
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        if line.strip() in {".quit", ".exit"}:
            return
        prompt = "distillwatch> " if line.rstrip().endswith(";") else "          ...> "
        yield line


def repl(con: duckdb.DuckDBPyConnection) -> None:
    """A minimal interactive session: read SQL up to ``;``, print the result, repeat."""
    import duckdb

    print("DuckDB over the lake; views: " + ", ".join(view_files()) + ". End with ; (.quit).")
    for statement in statements(_prompt_lines()):
        try:
            result = con.sql(statement)
        except duckdb.Error as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        if result is not None:
            result.show()


def shell(lake: Path, run: Path | None = None) -> int:
    """An interactive session: the ``duckdb`` CLI on a temporary database, else :func:`repl`."""
    cli = shutil.which("duckdb")
    if cli is None:
        repl(connect(lake, run=run))
        return 0
    with tempfile.TemporaryDirectory(prefix="distillwatch-sql-") as folder:
        database = Path(folder) / "lake.duckdb"
        connect(lake, database, run=run).close()
        return subprocess.call([cli, str(database)])


# -- command line --------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``distillwatch sql``."""
    parser.add_argument(
        "query",
        nargs="?",
        help="SQL text, a .sql file, or a saved query name: " + ", ".join(saved_queries()),
    )
    parser.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    parser.add_argument(
        "--run", type=Path, default=None, help="rescoring run folder (default: LAKE/exports/latest)"
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="bind $NAME in the query (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="write the result to a .csv or .parquet file")
    parser.add_argument("--max-rows", type=int, default=40, help="rows to print (default 40)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--shell", action="store_true", help="open an interactive session")
    mode.add_argument(
        "--database",
        type=Path,
        metavar="FILE",
        help="write a .duckdb file with the views (open it with the duckdb CLI)",
    )


def parse_params(pairs: list[str]) -> dict[str, int | float | str]:
    """``NAME=VALUE`` strings to parameter values (see :func:`coerce`)."""
    params: dict[str, int | float | str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not _IDENTIFIER.match(name.strip().lower()):
            raise ValueError(f"--param expects NAME=VALUE, got {pair!r}")
        params[name.strip()] = coerce(value)
    return params


def command(args: argparse.Namespace, lake: Path) -> int:
    """Run ``distillwatch sql`` with parsed ``args`` against the lake at ``lake``.

    Returns the exit code: 0 on success, 2 for bad usage (no query, bad
    parameter), 1 when DuckDB rejects the query.
    """
    import duckdb

    if args.shell:
        return shell(lake, args.run)
    if args.database is not None:
        connect(lake, args.database, run=args.run).close()
        print(f"wrote {args.database}: open it with `duckdb {args.database}`")
        return 0
    if not args.query:
        print("error: give a QUERY, --shell or --database", file=sys.stderr)
        return 2
    try:
        relation = run_query(connect(lake, run=args.run), args.query, parse_params(args.param))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.out is not None:
        write_result(relation, args.out)
        print(f"wrote {args.out}")
    else:
        relation.show(max_rows=args.max_rows)
    return 0
