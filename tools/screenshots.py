"""Screenshots of every main page per demo role, and a layout check, for docs/screenshots/.

It starts nothing: run it against a portal that is already up, `make run` (demo data; demo
accounts skip TOTP) or any live server with the demo accounts:

    make run                                   # in one terminal
    .venv/bin/python -m tools.screenshots      # in another (or: make screenshots)
    .venv/bin/python -m tools.screenshots --base http://127.0.0.1:8000 --check-only

For each demo role it signs in, opens every page of the role's navigation bar (menus included,
read from the page, so a new entry is photographed without touching this file) and the role's
main work pages (the doctor's search, a book and its tabs, a lab chart, a visit, the printout),
at 1366x768 (the common office laptop) and at 390x844 (a phone). It writes
docs/screenshots/<role>-<page>.png (palette PNGs, a few tens of kB each) and
docs/screenshots/README.md, and reports, exiting 1 if any:

* a page answering with an error, or logging a JavaScript or CSP error;
* a portal page not in Vietnamese (the browser asks for English, as many office browsers do;
  the API reference at /api/docs/ is Swagger UI's own page, in English);
* a navigation bar that wraps to a second line at 1366 px;
* a page wider than the screen (sideways scrolling) at 1366 px or on the phone;
* a book's section tabs on more than one line.

Needs Playwright's Python package (requirements-dev.txt) and Debian's Chromium
(/usr/bin/chromium; `apt-get install chromium`); Playwright's own browser download is not used.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
NAV_ONE_LINE_PX = 64  # Bootstrap's navbar is 56 px high on one line
TABS_ONE_LINE_PX = 50
DOCTOR_SEARCH = "do van khai"  # the README's first demo patient: cared for at the demo doctor's facility, with labs

# (username, role as the README shows it, extra pages: (name, target)). A target is a path,
# "link:<css selector>" (the first matching link on the previous page), "search:<words>" (the
# doctor's citizen search, a POST form) or "print:" (the previous page as printed).
ROLES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "bs.an",
        "Bác sĩ (doctor)",
        [
            ("search", f"search:{DOCTOR_SEARCH}"),
            ("book", "link:#search-results tr:has(.badge) a[href*='/doctor/books/']"),
            ("book-print", "print:"),
            ("book-timeline", "link:ul.book-tabs li:nth-child(2) a"),
            ("book-visit", "link:#timeline a[href*='/visits/']"),
            ("book-labs", "link:ul.book-tabs li:nth-child(3) a"),
            ("book-lab-chart", "link:#lab-indicators a"),
            ("book-vaccinations", "link:ul.book-tabs li:nth-child(4) a"),
            ("book-record", "link:ul.book-tabs li:nth-child(9) a"),
            ("book-viewers", "link:ul.book-tabs li:nth-child(10) a"),
        ],
    ),
    ("qt.hn001", "Quản trị cơ sở (facility admin)", []),
    (
        "so.hanoi",
        "Cán bộ Sở Y tế (province officer)",
        [("cohorts", "/cohorts/"), ("cohort", "link:main table a[href*='/cohorts/']")],
    ),
    ("ytcc.hanoi", "Cán bộ y tế công cộng tỉnh (province public-health officer)", []),
    (
        "bo.bientap",
        "Biên tập danh mục (ministry editor)",
        [("codelists", "/codelists/"), ("codelist", "link:main table a[href^='/codelists/']")],
    ),
    ("bo.quantri", "Quản trị Bộ Y tế (ministry admin)", []),
]
# Pages also photographed on the phone (page names as above; every page is checked on both).
PHONE_SHOTS = {"book", "book-lab-chart", "dashboards", "cohort"}
# Pages that are the same for every role: photographed for the first role that has them.
SHARED = {"/api/docs/", "/oauth/mine/"}
# The user menu's own pages (2FA, password, sessions) are the same for every role: not the bar.
NOT_MAIN = re.compile(r"^/(accounts|mfa|sessions|i18n|language)/")


@dataclass
class Run:
    base: str
    problems: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)


def _slug(path: str) -> str:
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27,}", "x", path.split("?")[0])
    return "-".join(p for p in path.strip("/").split("/") if p and p != "x")[:40] or "home"


def _save(page, file: Path, *, full_page: bool = False) -> None:
    """A palette PNG: UI screenshots keep their look in 256 colours at a fraction of the size."""
    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(file, optimize=True)


def _layout_problems(page, where: str, *, desktop: bool) -> list[str]:
    out = []
    portal_page = page.locator("nav.navbar").count() > 0  # not Swagger UI's own page (/api/docs/)
    if desktop and portal_page and page.evaluate("document.documentElement.lang") != "vi":
        out.append(f"{where}: not in Vietnamese for a browser asking for English")
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > width + 1:
        out.append(f"{where}: the page is {scroll} px wide on a {width} px screen (sideways scrolling)")
    bars = page.locator("nav.navbar")
    bar = bars.first.bounding_box() if bars.count() else None
    if desktop and bar and bar["height"] > NAV_ONE_LINE_PX:
        out.append(f"{where}: the navigation bar wraps ({bar['height']:.0f} px high)")
    tabs = page.locator("ul.book-tabs")
    if tabs.count():
        box = tabs.bounding_box()
        hidden = tabs.evaluate("u => u.scrollWidth - u.clientWidth")
        if box and box["height"] > TABS_ONE_LINE_PX:
            out.append(f"{where}: the book's tabs take {box['height']:.0f} px (more than one line)")
        if desktop and hidden > 1:
            out.append(f"{where}: the book's tabs do not fit at {width} px ({hidden} px hidden)")
    return out


def _open(page, run: Run, target: str):
    """Go to a target; return the HTTP response (None when the target is not on the page)."""
    if target.startswith("search:"):
        page.goto(f"{run.base}/doctor/")
        page.fill("#id_q", target[7:])
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        return page.request.get(page.url)
    if target.startswith("link:"):
        link = page.locator(target[5:]).first
        if not link.count():
            return None
        return page.goto(run.base + link.get_attribute("href"))
    return page.goto(run.base + target)


def _shoot(page, run: Run, username: str, role: str, name: str, response) -> None:
    page.wait_for_load_state("networkidle")
    path = page.url.removeprefix(run.base)
    where = f"{username} {name} ({path})"
    status = response.status if response is not None else 0
    if status >= 400:
        run.problems.append(f"{where}: HTTP {status}")
    run.problems += _layout_problems(page, where, desktop=True)
    file = f"{username}-{name}.png"
    _save(page, OUT / file)
    shots = [f"![{name}]({file})"]
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    run.problems += _layout_problems(page, where + " on a phone", desktop=False)
    if name in PHONE_SHOTS:
        phone_file = f"{username}-{name}-phone.png"
        _save(page, OUT / phone_file)
        shots.append(f"[phone]({phone_file})")
    page.set_viewport_size(DESKTOP)
    run.rows.append(f"| {role} | {name} | `{path}` | {' · '.join(shots)} |")


def _role(browser, run: Run, username: str, role: str, extra: list[tuple[str, str]], password: str) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")  # a browser asking for English
    page = context.new_page()
    page.on("console", lambda m: run.errors.append(f"{username} {page.url}: {m.text}") if m.type == "error" else None)
    page.goto(f"{run.base}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    if page.url.rstrip("/").endswith("/accounts/login"):
        run.problems.append(f"{username}: cannot sign in (is the demo data loaded?)")
        context.close()
        return
    bar = page.eval_on_selector_all("ul.navbar-nav a[href]", "links => links.map(a => a.getAttribute('href'))")
    done = set()
    for path in ["/", *bar]:
        if path in done or path in run.shared or NOT_MAIN.match(path) or path.startswith("#"):
            continue
        done.add(path)
        if path in SHARED:
            run.shared.add(path)
        _shoot(page, run, username, role, _slug(path), page.goto(run.base + path))
    for name, target in extra:
        if target in done:  # already photographed from the bar: only go there
            page.goto(run.base + target)
            continue
        if target == "print:":
            page.emulate_media(media="print")
            _save(page, OUT / f"{username}-{name}.png", full_page=False)
            run.rows.append(f"| {role} | {name} | (printed) | ![{name}]({username}-{name}.png) |")
            if page.locator("#print-header").count() == 0 or page.locator("#viewers-panel").is_visible():
                run.problems.append(f"{username} {name}: the printout has no header or shows the viewers panel")
            page.emulate_media(media="screen")
            continue
        response = _open(page, run, target)
        if response is None:
            run.problems.append(f"{username} {name}: no link {target[5:]} on {page.url}")
            continue
        _shoot(page, run, username, role, name, response)
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="the running portal")
    parser.add_argument("--password", default=os.environ.get("SSKDT_DEMO_PASSWORD", "demo-Sskdt-2025"))
    parser.add_argument("--role", action="append", help="only these usernames (default: every demo role)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    if not args.role:
        for old in OUT.glob("*.png"):  # a page gone from the bar leaves no stale picture
            old.unlink()
    run = Run(base=args.base.rstrip("/"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        for username, role, extra in ROLES:
            if not args.role or username in args.role:
                _role(browser, run, username, role, extra, args.password)
        browser.close()
    problems = run.problems + [f"browser console: {e}" for e in run.errors]
    (OUT / "README.md").write_text(
        "# Main pages per role (1366x768 and a 390 px phone, Chromium)\n\n"
        "Refreshed by `make screenshots` (`.venv/bin/python -m tools.screenshots`) against a running "
        "`make run`; do not edit by hand. The browser asks for English: every page must still be in "
        "Vietnamese. The same run checks that no navigation bar wraps at 1366 px, that no page scrolls "
        "sideways at 1366 px or on a phone, that a book's tabs stay on one line and that a printout has "
        "its header and no viewers panel.\n\n"
        f"Problems found by the last run: {len(problems)}.\n\n"
        "| Role | Page | URL | Screenshot |\n|---|---|---|---|\n" + "\n".join(run.rows) + "\n",
        encoding="utf-8",
    )
    for problem in problems:
        print("PROBLEM", problem, file=sys.stderr)
    print(f"{len(run.rows)} pages in {OUT}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
