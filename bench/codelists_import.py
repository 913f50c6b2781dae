"""Benchmark: import a 15,000-row code list (ICD-10 size) into a draft, preview + confirm.

Run by hand (not a test), against a database where `load_codelists` has run:
    DATABASE_URL=postgres://... DJANGO_SETTINGS_MODULE=config.test_settings \
        /work/main/.venv/bin/python bench/codelists_import.py
Baseline measured in the same run: plain COPY of the same 15,000 rows into a temporary table.
"""

import csv
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from codelists import imports, services  # noqa: E402
from codelists.models import CodeSystem, CodeSystemVersion, VersionStatus  # noqa: E402
from core.roles import Role  # noqa: E402

ROWS = 15_000


def main():
    editor, _ = User.objects.get_or_create(username="bench.codelists", defaults={"role": Role.MINISTRY_EDITOR})
    system = CodeSystem.objects.get(key="icd10")
    for stale in CodeSystemVersion.objects.filter(system=system, status=VersionStatus.DRAFT):
        services.draft_discard(version=stale, acting_user=editor)
    draft = services.draft_start(system=system, acting_user=editor, label=f"bench {time.time():.0f}")
    existing = list(draft.concepts.order_by("code").values_list("code", "display_vi", "display_en", "parent_code"))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["code", "display_vi", "display_en", "parent_code", "active", "properties"])
    rows = 0
    for i, (code, vi, en, parent) in enumerate(existing):
        # Every third row changed, the rest unchanged text; properties rewritten for all.
        w.writerow([code, vi + (" (sửa)" if i % 3 == 0 else ""), en, parent, "1", '{"bench": true}'])
        rows += 1
    n = 0
    while rows < ROWS:
        w.writerow([f"ZB{n:04d}", f"Mã thử nghiệm {n}", "", "", "1", "{}"])
        rows += 1
        n += 1
    content = buf.getvalue().encode("utf-8")

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_copy (code text, vi text, en text, parent text, active text, props text)")
        with cur.cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
            copy.write(content)
        cur.execute("DROP TABLE bench_copy")
    baseline = time.perf_counter() - t

    t = time.perf_counter()
    job = imports.import_preview(version=draft, acting_user=editor, filename="bench.csv", content=content)
    preview = time.perf_counter() - t
    assert job.status == "previewed", job.errors[:3]
    draft.refresh_from_db()
    t = time.perf_counter()
    imports.import_apply(job=job, acting_user=editor)
    apply = time.perf_counter() - t
    s = job.summary
    services.draft_discard(version=draft, acting_user=editor)
    print(f"rows={s['rows']} new={s['new']} changed={s['changed']} unchanged={s['unchanged']}")
    print(f"baseline plain COPY: {baseline:.3f} s")
    print(
        f"preview (dry run):   {preview:.2f} s  ({s['rows'] / preview:,.0f} rows/s, x{preview / baseline:.0f} baseline)"
    )
    print(f"confirm (apply):     {apply:.2f} s  ({s['rows'] / apply:,.0f} rows/s, x{apply / baseline:.0f} baseline)")
    print(f"preview + confirm:   {preview + apply:.2f} s  (limit 30 s)")


if __name__ == "__main__":
    main()
