"""Issue 15, attack 14, in the code lists: concept codes are data, not URL parts (a code with
`/`, `?`, `#`, `%`, `..` or a space keeps the version page and its edit links working), and a
NUL in an imported cell is a row error, not a failed request."""

import html
import re
from datetime import date
from urllib.parse import unquote, urlsplit

import pytest
from django.urls import resolve

from codelists import imports, services
from codelists.models import ImportJob

HOSTILE = ["A/B", "/X", "Y/", "..", "50%", "K?x=1", "HB#1", "a b"]
_EDIT = re.compile(r'href="([^"]*/concepts/[^"]*)"')


@pytest.fixture
def draft(labs, ministry_editor):
    return services.draft_start(
        system=labs.system, acting_user=ministry_editor, label="nháp", effective_from=date(2026, 1, 1)
    )


def test_codes_with_url_characters_keep_the_version_page_and_edit_links_working(draft, ministry_editor, login, proof):
    row = proof.row("T14", "Code-list concept codes with / ? # % .. space: version page and every edit link")
    header = "code,display_vi,display_en,parent_code,active,properties\n"
    body = header + "".join(f'"{code}",Mã {i},,,1,{{}}\n' for i, code in enumerate(HOSTILE))
    job = imports.import_preview(version=draft, acting_user=ministry_editor, filename="x.csv", content=body.encode())
    assert job.status == ImportJob.Status.PREVIEWED, job.errors
    imports.import_apply(job=job, acting_user=ministry_editor)
    client = login(ministry_editor)
    page = client.get(f"/codelists/{draft.system.key}/versions/{draft.pk}/", {"q": "", "show": "all"})
    links = sorted({html.unescape(h) for h in _EDIT.findall(page.content.decode()) if "/retire/" not in h})
    opened = {}
    for link in links:
        response = client.get(link)
        ok = response.status_code == 200
        opened[link] = response.context["form"].initial.get("code") if ok else response.status_code
    shown = set(opened.values())
    row.set(
        times=1 + len(links),
        figure=f"{len(HOSTILE)} hostile codes: version page {page.status_code}, {len(links)} edit links, "
        f"{len(set(HOSTILE) & shown)} of {len(HOSTILE)} open their own concept",
    )
    assert page.status_code == 200
    assert set(HOSTILE) <= shown, opened
    retire = sorted({html.unescape(a) for a in re.findall(r'action="([^"]*/retire/)"', page.content.decode())})
    for action in retire:
        code = resolve(unquote(urlsplit(action).path)).kwargs["code"]  # as the server decodes it
        revision = draft.concepts.get(code=code).revision
        assert client.post(action, {"revision": revision}).status_code == 302
    assert not draft.concepts.filter(code__in=HOSTILE, active=True).exists()


def test_a_nul_in_an_imported_cell_is_a_row_error(draft, ministry_editor):
    body = "code,display_vi,display_en,parent_code,active,properties\nNEW,Mới\x00,,,1,{}\nOK,Được,,,1,{}\n"
    job = imports.import_preview(version=draft, acting_user=ministry_editor, filename="x.csv", content=body.encode())
    assert job.status == ImportJob.Status.REJECTED
    assert [e["row"] for e in job.errors] == [2]
