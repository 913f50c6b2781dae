"""The layout holds: no app names another app's tables in SQL (views are the door), no import
circle anywhere in the product, and the tables of moved models kept their names.

The layers themselves are checked by lint-imports (.importlinter) in `make lint`.
"""

import ast
import re
from pathlib import Path

import grimp
import pytest
from django.apps import apps
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("core", "geo", "accounts", "codelists", "facilities", "accesslog", "healthbook", "provinces", "config")


def _product_files():
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield package, path


def _strings(path: Path):
    """Every string constant of a module (SQL, docstrings, f-string parts), with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _relations() -> dict[str, tuple[str, str]]:
    """Table or view name -> (owning app, kind "r"/"v"/"p"): a model's table belongs to its app,
    any other relation to the app whose label starts its name."""
    owners = {}
    for model in apps.get_models(include_auto_created=True):
        owners[model._meta.db_table] = model._meta.app_label
    labels = sorted({config.label for config in apps.get_app_configs()}, key=len, reverse=True)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'p')"
        )
        rows = cur.fetchall()
    relations = {}
    for name, kind in rows:
        owner = owners.get(name) or next((label for label in labels if name.startswith(f"{label}_")), None)
        if owner is not None:
            relations[name] = (owner, kind)
    return relations


@pytest.mark.django_db
def test_no_product_sql_names_a_table_of_another_app():
    relations = _relations()
    foreign = {name: owner for name, (owner, kind) in relations.items() if kind != "v" and owner in PRODUCT}
    assert "healthbook_encounter" in foreign and "facilities_facility" in foreign
    assert relations["provinces_province"] == ("geo", "r")
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, foreign), key=len, reverse=True)) + r")\b")
    found = []
    for package, path in _product_files():
        app = "healthbook" if package == "healthbook" else package
        for line, text in _strings(path):
            for name in set(pattern.findall(text)):
                if foreign[name] != app:
                    found.append(f"{path.relative_to(ROOT)}:{line} names {name} ({foreign[name]})")
    assert found == []


@pytest.mark.django_db
def test_the_views_other_apps_read_exist():
    relations = _relations()
    views = {name for name, (_owner, kind) in relations.items() if kind == "v"}
    named = set()
    for _package, path in _product_files():
        for _line, text in _strings(path):
            named.update(re.findall(r"\b[a-z]+_[a-z0-9_]+_view\b", text))
    assert named and named <= views


def test_there_is_no_import_circle():
    graph = grimp.build_graph(*PRODUCT, include_external_packages=False)
    cycles = []
    # A circle is an import whose target leads back, by a chain of imports, to the importer
    # (imports inside functions count: they are imports all the same).
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append((module, *back))
    assert cycles == []


def test_moved_models_keep_their_tables():
    tables = {model._meta.label: model._meta.db_table for model in apps.get_models()}
    assert tables["geo.Province"] == "provinces_province"
    assert tables["geo.OldProvinceCode"] == "provinces_oldprovincecode"
    assert tables["healthbook.Reminder"] == "provinces_reminder"
