"""The proof table: every security and reliability check records what it tried and the figure.

A test asks for the `proof` fixture and records one row per check it proves::

    def test_brute_force(proof, client):
        row = proof.row("S1", "wrong passwords against one account")
        ...                                  # the attack
        row.set(times=200, figure=f"200 attempts, {ok} succeeded")
        assert ok == 0

Pass or fail comes from the test's outcome, never from the row itself: a row whose test
failed (even before `set` was reached) is shown as FAIL. Generated tests that run once per
URL tally into one row: rows with the same check id and description are merged, their
`times` and numeric `counts` summed, and the figure is a template filled at the end::

    proof.tally("S6", "every URL x every role", times=n,
                figure="{refused}/{foreign} refused, {leaks} leaks", refused=..., foreign=..., leaks=...)

At the end of the session the table is printed; `--proof-report FILE` also writes it as
markdown with the date and the commit. Tests marked `proof_long` run only with `--proof-long`
(`make proof`), so `make test` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.proof import catalog

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Row:
    check: str
    tried: str
    times: int = 0
    figure: str = "(not reached: the test stopped before its figure)"
    counts: dict = field(default_factory=dict)
    template: bool = False
    nodeids: list = field(default_factory=list)
    outcome: str = "pass"

    def set(self, *, times: int | None = None, figure: str | None = None, **counts) -> Row:
        if times is not None:
            self.times = times
        if figure is not None:
            self.figure = figure
        self.counts.update(counts)
        return self

    @property
    def key(self) -> tuple[str, str]:
        return (self.check, self.tried)

    def rendered_figure(self) -> str:
        if not self.template:
            return self.figure
        try:
            return self.figure.format(times=self.times, **self.counts)
        except (KeyError, IndexError, ValueError):
            return f"{self.figure} {self.counts}"

    def as_dict(self) -> dict:
        return {
            "check": self.check,
            "tried": self.tried,
            "times": self.times,
            "figure": self.figure,
            "counts": self.counts,
            "template": self.template,
            "nodeids": self.nodeids,
            "outcome": self.outcome,
        }


class Proof:
    """The per-test handle: rows created here are tied to the requesting test."""

    def __init__(self, ledger: Ledger, nodeid: str):
        self._ledger = ledger
        self._nodeid = nodeid

    def row(self, check: str, tried: str) -> Row:
        row = Row(check=check, tried=tried, nodeids=[self._nodeid])
        self._ledger.add(row)
        return row

    def record(self, check: str, tried: str, *, times: int, figure: str, **counts) -> Row:
        return self.row(check, tried).set(times=times, figure=figure, **counts)

    def tally(self, check: str, tried: str, *, times: int, figure: str, **counts) -> Row:
        row = self.row(check, tried).set(times=times, figure=figure, **counts)
        row.template = True
        return row


class Ledger:
    def __init__(self):
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def mark(self, nodeid: str, outcome: str) -> None:
        for row in self.rows:
            if nodeid in row.nodeids and _worse(outcome, row.outcome):
                row.outcome = outcome

    def merged(self) -> list[Row]:
        """One row per (check, tried): tallies summed, outcome the worst of its tests."""
        out: dict[tuple[str, str], Row] = {}
        for row in self.rows:
            if row.key not in out:
                out[row.key] = Row(**{**row.as_dict(), "counts": dict(row.counts), "nodeids": list(row.nodeids)})
                continue
            acc = out[row.key]
            acc.nodeids += row.nodeids
            if _worse(row.outcome, acc.outcome):
                acc.outcome = row.outcome
            if row.template:
                acc.times += row.times
                for name, value in row.counts.items():
                    acc.counts[name] = acc.counts.get(name, 0) + value
            else:  # one-off rows recorded twice (e.g. a re-run): keep the last figure
                acc.times, acc.figure, acc.counts = row.times, row.figure, dict(row.counts)
        return sorted(out.values(), key=lambda r: (catalog.order(r.check), r.check, r.tried))


_RANK = {"pass": 0, "skipped": 1, "fail": 2}


def _worse(new: str, old: str) -> bool:
    return _RANK.get(new, 2) > _RANK.get(old, 2)


# --- pytest hooks -------------------------------------------------------------------------------

_LEDGER_KEY = pytest.StashKey[Ledger]()


def pytest_addoption(parser):
    group = parser.getgroup("proof", "security and reliability proof table")
    group.addoption(
        "--proof-report",
        metavar="FILE",
        default=None,
        help="write the proof table (markdown, with date and commit) to FILE",
    )
    group.addoption(
        "--proof-long", action="store_true", default=False, help="also run the checks marked proof_long (make proof)"
    )


def pytest_configure(config):
    config.stash[_LEDGER_KEY] = Ledger()


def pytest_collection_modifyitems(config, items):
    if config.getoption("--proof-long"):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("proof_long") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def proof(request) -> Proof:
    return Proof(request.config.stash[_LEDGER_KEY], request.node.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if "proof" in getattr(item, "fixturenames", ()):
        ledger = item.config.stash[_LEDGER_KEY]
        if report.failed:
            if not any(item.nodeid in row.nodeids for row in ledger.rows):
                # Failed before it could record anything (e.g. in a fixture): still a row, still FAIL.
                ledger.add(
                    Row(
                        check="?",
                        tried=item.nodeid,
                        figure=f"failed in {report.when} before recording",
                        nodeids=[item.nodeid],
                    )
                )
            ledger.mark(item.nodeid, "fail")
        elif report.skipped and report.when in ("setup", "call"):
            ledger.mark(item.nodeid, "skipped")
    return report


# pytest-xdist: workers send their rows to the controller.
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["proof_rows"] = json.dumps([r.as_dict() for r in session.config.stash[_LEDGER_KEY].rows])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    rows = getattr(node, "workeroutput", {}).get("proof_rows")
    if rows:
        ledger = node.config.stash[_LEDGER_KEY]
        for data in json.loads(rows):
            ledger.add(Row(**data))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "workeroutput", None) is not None:
        return
    rows = config.stash[_LEDGER_KEY].merged()
    if not rows:
        return
    terminalreporter.write_sep("=", "proof: security and reliability checks")
    for line in render_text(rows).splitlines():
        terminalreporter.write_line(line)
    target = config.getoption("--proof-report")
    if target:
        path = Path(target)
        if not path.is_absolute():
            path = Path(config.invocation_params.dir) / path
        path.write_text(render_markdown(rows, long_run=config.getoption("--proof-long")), encoding="utf-8")
        terminalreporter.write_line(f"proof report written to {path}")


# --- rendering ----------------------------------------------------------------------------------


def _status(row: Row) -> str:
    return {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}.get(row.outcome, row.outcome.upper())


def render_text(rows: list[Row]) -> str:
    table = [("check", "what was tried", "times", "figure", "result")]
    table += [(r.check, r.tried, str(r.times), r.rendered_figure(), _status(r)) for r in rows]
    widths = [min(max(len(line[i]) for line in table), cap) for i, cap in enumerate((6, 70, 7, 110, 6))]
    out = []
    for n, line in enumerate(table):
        cells = [_clip(cell, widths[i]).ljust(widths[i]) for i, cell in enumerate(line)]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    passed = sum(r.outcome == "pass" for r in rows)
    failed = sum(r.outcome == "fail" for r in rows)
    out.append(f"proof: {passed} passed, {failed} failed")
    return "\n".join(out)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def render_markdown(rows: list[Row], *, long_run: bool) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    seen = {r.check for r in rows}
    lines = [
        catalog.REPORT_HEADER.strip(),
        "",
        "## Latest run",
        "",
        f"- Date: {now}",
        f"- Commit: `{_commit()}`",
        f"- Long checks (`proof_long`): {'included' if long_run else 'not run (only `make proof` runs them)'}",
        f"- Result: {sum(r.outcome == 'pass' for r in rows)} passed, "
        f"{sum(r.outcome == 'fail' for r in rows)} failed, {sum(r.outcome == 'skipped' for r in rows)} skipped",
        "",
        "| Check | What was tried | Times | Figure | Result |",
        "|---|---|---:|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.check} | {_md(r.tried)} | {r.times} | {_md(r.rendered_figure())} | {_status(r)} |")
    lines += [
        "",
        "## Checks of the plan not in this run",
        "",
        "Each plan id (`../shared/domain/security-plan.md` §3) that printed no row above, and why.",
        "",
        "| Check | Attack or fault | Why not here yet |",
        "|---|---|---|",
    ]
    for check, (title, why) in catalog.PLAN.items():
        if check not in seen:
            lines.append(f"| {check} | {_md(title)} | {_md(why)} |")
    lines += ["", catalog.report_footer(), ""]
    return "\n".join(lines)
