"""A queryset compiled to SQL once and run again with other values (hot-path reads).

Building and compiling the access decision's queryset (four EXISTS subqueries, the emergency
grant, three joined tables) costs the ORM about three times what PostgreSQL spends on it;
every book page and API read asks it. The queryset is therefore built once per thread with
sentinel values in place of the request's values (user, facility, dates, the book's id), and
compiled; each later call substitutes the real values for the sentinels in the parameter list
and builds the model instances as Django's ModelIterable does (select_related objects and
annotations included). The SQL is still the ORM's own, so the rule has one definition
(healthbook.access), and the queryset form (`books_visible_to`) stays the same rule.

The statement is also prepared on each database connection (server-side binding): planning
the decision costs PostgreSQL several times its execution, and a prepared statement is
planned once and then reuses its generic plan when PostgreSQL finds it no worse. Where
prepared statements are switched off (settings DB_PREPARED_STATEMENTS=0, e.g. behind a pooler
in transaction mode), the same statement runs unprepared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators


class _PreparedCursor(psycopg.Cursor):
    """A server-side binding cursor whose statements are prepared on the connection (when the
    connection allows it: Django leaves prepare_threshold None unless configured)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: tuple  # per parameter: ("v", (sentinel name, type to pass)) or ("c", constant)
    model: type
    start: int
    end: int
    init_list: list
    populators: list
    annotations: dict
    converters: dict
    compiler: object


class CompiledQuery:
    """`build(sentinels)` returns the queryset for the values in `sentinels` (a dict of
    distinctive values that appear nowhere else in the query, and valid for their columns: a
    negative id within 32 bits, since the ORM turns an out-of-range integer into an empty
    query); `run(values)` returns the model instances for the same keys' real values."""

    def __init__(self, build: Callable[[dict], QuerySet], sentinels: dict, *, using: str = "default"):
        self.build = build
        self.sentinels = sentinels
        self.using = using
        self._local = threading.local()

    def _compile(self) -> _Compiled:
        connection = connections[self.using]
        cached = getattr(self._local, "compiled", None)
        if cached is not None and cached.compiler.connection is connection:
            return cached
        qs = self.build(self.sentinels)
        compiler = qs.query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        slots = []
        used = set()
        for param in params:
            # The backend may wrap a value in a subclass of its type (psycopg's Int4 for an
            # IntegerField): the real value is wrapped the same way.
            name = next((k for k, v in self.sentinels.items() if isinstance(param, type(v)) and v == param), None)
            if name is None:
                slots.append(("c", param))
            else:
                slots.append(("v", (name, type(param))))
                used.add(name)
        missing = set(self.sentinels) - used
        if missing:  # a value the query does not use could not be told from a constant
            raise ValueError(f"sentinels not found in the compiled query: {sorted(missing)}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        compiled = _Compiled(
            sql=sql,
            slots=tuple(slots),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            populators=get_related_populators(klass_info, select, self.using),
            annotations=dict(compiler.annotation_col_map),
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            compiler=compiler,
        )
        self._local.compiled = compiled
        return compiled

    def run(self, values: dict) -> list:
        c = self._compile()
        params = [
            (v[1](values[v[0]]) if v[1] is not type(values[v[0]]) else values[v[0]]) if kind == "v" else v
            for kind, v in c.slots
        ]
        connection = connections[self.using]
        connection.close_if_health_check_failed()  # as Django's own cursor() does first
        connection.ensure_connection()
        started = time.monotonic()
        # Django's own wrapper: its error translation and execute wrappers still apply. Its debug
        # log cannot read a prepared statement's text back, so the query is logged here.
        with connection.make_cursor(_PreparedCursor(connection.connection)) as cur:
            cur.execute(c.sql, params)
            rows = cur.fetchall()
        if connection.queries_logged:
            sql = connection.ops.compose_sql(c.sql, params)
            connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
        if c.converters:
            rows = list(c.compiler.apply_converters(rows, c.converters))
        result = []
        for row in rows:
            obj = c.model.from_db(self.using, c.init_list, row[c.start : c.end])
            for populator in c.populators:
                populator.populate(row, obj)
            for name, pos in c.annotations.items():
                setattr(obj, name, row[pos])
            result.append(obj)
        return result
