"""Statements with server-side parameters on Django's connection.

Django's psycopg cursors bind parameters on the client: every value is quoted into the SQL
text in Python (bytes as hex, twice their size) and parsed again by PostgreSQL. For the few
wide statements of the intake (the receipt with its body, the encounters of a submission)
`bound_cursor` gives a psycopg server-binding cursor on the same connection and transaction,
with Django's error classes (IntegrityError, OperationalError …).
"""

from __future__ import annotations

from contextlib import contextmanager

import psycopg
from django.db import connection


@contextmanager
def bound_cursor():
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        yield cur
