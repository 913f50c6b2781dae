"""Screenshots of every main page per demo role, at 1366x768 in Chromium, for docs/screenshots/.

Run it against a portal started with `make run` (demo data, demo accounts skip TOTP):

    .venv/bin/python -m config.screenshots [--base http://127.0.0.1:8000]

It signs in as each demo role, opens the role's main pages (following the links on them, so a
renamed URL does not break it), writes docs/screenshots/<role>-<page>.png and a README listing
them, and reports any page whose navigation bar wraps or that answers with an error.
Needs Playwright's Python package and Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1366, "height": 768}
# (username, role shown in the README, pages: (name, a path, "link:<css selector on the previous
# page>" or "search:<words>" for the doctor's citizen search, which is a POST form))
ROLES = [
    (
        "bs.an",
        "Bác sĩ (doctor)",
        [
            ("home", "/"),
            ("search", "search:phan trong loc"),
            ("book", "link:#search-results tr:has(.badge) a[href*='/doctor/books/']"),
        ],
    ),
    ("qt.hn001", "Quản trị cơ sở (facility admin)", [("home", "/"), ("credentials", "/facilities/mine/credentials/")]),
    (
        "so.hanoi",
        "Cán bộ Sở Y tế (province officer)",
        [("home", "/"), ("dashboard", "/dashboards/"), ("queue", "/facilities/queue/"), ("staff", "/staff/")],
    ),
    ("bo.bientap", "Biên tập danh mục (ministry editor)", [("home", "/"), ("codelists", "/codelists/")]),
    ("bo.quantri", "Quản trị Bộ Y tế (ministry admin)", [("home", "/"), ("dashboard", "/dashboards/national/")]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--password", default=os.environ.get("SSKDT_DEMO_PASSWORD", "demo-Sskdt-2025"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    problems, lines = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        for username, role, pages in ROLES:
            context = browser.new_context(viewport=VIEWPORT, locale="vi-VN")
            page = context.new_page()
            page.goto(f"{args.base}/accounts/login/")
            page.fill("#id_login", username)
            page.fill("#id_password", args.password)
            page.click("main button[type=submit]")
            page.wait_for_load_state()
            for name, target in pages:
                if target.startswith("search:"):
                    page.goto(f"{args.base}/doctor/")
                    page.fill("#id_q", target[7:])
                    with page.expect_navigation():
                        page.click("main form button[type=submit]")
                    response = page.request.get(page.url)
                elif target.startswith("link:"):
                    link = page.locator(target[5:]).first
                    if not link.count():
                        problems.append(f"{username} {name}: no link {target[5:]} on {page.url}")
                        continue
                    response = page.goto(args.base + link.get_attribute("href"))
                else:
                    response = page.goto(args.base + target)
                page.wait_for_load_state("networkidle")
                if response is None or response.status >= 400:
                    problems.append(f"{username} {name}: HTTP {response.status if response else '?'} at {page.url}")
                bar = page.locator("nav.navbar").bounding_box()
                if bar and bar["height"] > 70:
                    problems.append(f"{username} {name}: the navigation bar wraps ({bar['height']:.0f} px)")
                file = f"{username}-{name}.png"
                page.screenshot(path=str(OUT / file))
                lines.append(f"| {role} | {name} | `{page.url.removeprefix(args.base)}` | ![{name}]({file}) |")
            context.close()
        browser.close()
    (OUT / "README.md").write_text(
        "# Main pages per role (1366x768, Chromium)\n\n"
        "Refreshed by `.venv/bin/python -m config.screenshots` against `make run`; do not edit by hand.\n\n"
        "| Role | Page | URL | Screenshot |\n|---|---|---|---|\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    for problem in problems:
        print("PROBLEM", problem, file=sys.stderr)
    print(f"{len(lines)} screenshots in {OUT}; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
