"""Every check of the security plan (`../shared/domain/security-plan.md` §3), and the report's fixed text.

PLAN maps a check id to (attack or fault, why it has no row yet). A check with a row in the run
is reported with its figure; one without is listed with the reason below, so nothing is silently
missing. When a capability lands, its check gets a test that records a row, and the reason here
becomes moot (keep it accurate anyway: it is what the report prints when the test is deselected).
"""

LATER_BOOKS = "needs the citizen health books (issue: citizen books); the test comes with them"
LATER_INTAKE = "needs the signed XML 130 intake; fixtures go to tests/fixtures/hostile/ with it"
LATER_IMPORT = "needs the card-batch import jobs (chunks, sweeper); harness starts its own worker/Redis/PostgreSQL"

PLAN: dict[str, tuple[str, str]] = {
    "S1": ("Brute force one account", ""),
    "S2": ("Brute force with rotating X-Forwarded-For", ""),
    "S3": ("Brute force the Django admin login", ""),
    "S4": ("MFA abuse: TOTP/recovery-code reuse, skipping the MFA step", ""),
    "S5": ("Session fixation, logout, deactivation, idle timeout", ""),
    "S6": ("IDOR/BOLA across provinces on every URL", ""),
    "S7": ("Search inference on another province's data", ""),
    "S8": (
        "Doctor without a care relationship opens a record",
        "tests/healthbook/book/test_proof_access.py (every book URL, pages and APIs); no row means it did not run",
    ),
    "S9": (
        "Break-the-glass",
        "tests/healthbook/book/test_proof_access.py; the log stores event emergency_start with purpose ETREAT "
        "(no FHIR AuditEvent store, so no DICOM 110127 code); TTL checked by moving the expiry (no clock library)",
    ),
    "S10": ("Mass assignment / field-level authorization", ""),
    "S11": ("CSRF on every unsafe view", ""),
    "S12": ("Stored XSS in names, notes and code-list labels", ""),
    "S13": ("CSV/XLSX formula injection in exports", ""),
    "S14": ("Odd and SQL-ish input in search", ""),
    "S15": ("API fuzzing over the whole OpenAPI schema", ""),
    "S16": ("Deploy checks, security headers and cookie flags", ""),
    "S17": ("Oversized uploads", "tests/healthbook/cards/test_proof_uploads.py (card page and API)"),
    "S18": ("CSV encodings, delimiters, columns", "tests/healthbook/cards/test_proof_uploads.py"),
    "S19": ("XLSX bombs", "tests/healthbook/cards/test_proof_uploads.py (child process under RLIMIT_AS)"),
    "S20": ("XML external entities, billion laughs, XInclude", "tests/healthbook/intake/test_proof_intake.py"),
    "S21": ("Tampered signed XML 130", "tests/healthbook/intake/test_proof_intake.py (through the endpoint)"),
    "S22": ("XML signature wrapping", "tests/healthbook/intake/test_proof_intake.py"),
    "S23": (
        "Bad certificates",
        "tests/healthbook/intake/test_proof_intake.py; revocation is the portal's certificate register: "
        "no CRL is read (the intake does not support CRL/OCSP)",
    ),
    "S24": (
        "Replays with and without Idempotency-Key",
        "tests/healthbook/intake/test_proof_intake.py; the 50 parallel POSTs need CELERY_BROKER_URL=redis://… "
        "(tests/healthbook/intake/test_worker.py, skipped without a real broker)",
    ),
    "S25": ("Log injection", ""),
    "S26": ("Audit completeness of citizen-data views", ""),
    # Issue 15 ("Trust"): who can create the facts that open a book or grant a credential. T<n> is
    # the attack n; T0 its opposite failure (the walk-in patient).
    "T0": (
        "Walk-in patient: a signed check-in opens the book to the facility that checked the patient in, and no other",
        "tests/healthbook/intake/test_proof_carepath.py (through the submission endpoint)",
    ),
    "T1": (
        "A facility administrator reads clinical data through a doctor and a key it created; a province "
        "officer's bulk import approves its own facilities",
        "tests/healthbook/book/test_proof_duties.py, tests/facilities/test_proof_import_pending.py",
    ),
    "T2": (
        "Facility data alone opening a book: future-dated visits, referrals and follow-ups naming another "
        "facility, identity contradictions, the submission status as an identity oracle",
        "tests/healthbook/intake/test_proof_carepath.py (through the submission endpoint)",
    ),
    "T3": (
        "Certificates trusted through licensed authorities, not uploads",
        "tests/facilities/test_certificate_trust.py (the credentials page)",
    ),
    "T4": (
        "A revoked certificate signs nothing received after its revocation, whatever NGAYLAP says",
        "tests/healthbook/intake/test_revocation_time.py (through the endpoint)",
    ),
    "T5": (
        "A province officer's card batch rewriting another province's citizens",
        "tests/healthbook/cards/test_proof_card_scope.py (CSV fast path and XLSX full rules)",
    ),
    "T6": (
        "An access log the application cannot rewrite",
        "tests/accesslog/test_access_log_trust.py (the application role; a re-chained forgery after the "
        "last checkpoint)",
    ),
    "T7": (
        "Emergency access without cap, reviewed by the same facility, verdict changed later, no alert",
        "tests/healthbook/book/test_proof_duties.py",
    ),
    "T8": (
        "Doctors, keys and tokens of suspended or closed facilities keep reading; API keys never expire",
        "tests/facilities/test_proof_stopped_facilities.py (every book path, the key's endpoints, the reminder "
        "task, the credentials page)",
    ),
    "T9": (
        "Masked personal ID next to birth year and sex narrows it to 100 guesses",
        "tests/healthbook/book/test_proof_duties.py",
    ),
    "T10": (
        "Personal IDs in URL paths, query strings and the request log",
        "tests/healthbook/book/test_proof_duties.py",
    ),
    "T13": (
        "Four eyes: a code-list publisher who edited the draft; one ministry administrator making others",
        "tests/codelists/test_proof_four_eyes.py, tests/accounts/test_proof_second_admin.py",
    ),
    "T11": (
        "Behind the TLS proxy, no proxy trusted: everybody shares the proxy's address (login limit, access log)",
        "tests/security/test_proxy_addresses.py (the settings started as a web process; logins and a book "
        "opened through one trusted proxy)",
    ),
    "T12": (
        "seed_demo with DEBUG off creating a ministry administrator with the README's password",
        "tests/accounts/test_seed_demo.py",
    ),
    "T15": (
        "The smaller gaps: no CSP, no re-authentication, no absolute session lifetime, enumeration oracles, "
        "a neutraliser missing TAB/CR, facility-code squatting, reprocessing by code-list editors",
        "tests/security/test_proof_gaps.py, tests/security/test_csp_browser.py (Chromium), "
        "tests/core/test_spreadsheet_everywhere.py, tests/healthbook/intake/test_submission_pages.py",
    ),
    "T14": (
        "Poison data: lab codes with URL characters, NUL/surrogates/deep JSON in submissions, NUL in a card "
        "cell, code-list XLSX bombs, 2 GiB bodies before login, audit records editable in the admin",
        "tests/healthbook/book/test_poison_lab_codes.py, tests/healthbook/intake/test_poison_intake.py, "
        "tests/healthbook/cards/test_poison_cells.py, tests/codelists/test_import_bombs.py, "
        "tests/codelists/test_poison_codes.py, "
        "tests/security/test_body_limit.py, tests/accounts/test_admin_records.py",
    ),
    "R1": (
        "Celery worker SIGKILL mid-batch",
        "needs a real broker: runs when CELERY_BROKER_URL=redis://… (tests/healthbook/cards/test_card_worker_kill.py)",
    ),
    "R2": (
        "Redis killed and restarted mid-import",
        "needs redis-server on the PATH and a Celery worker (tests/faults/test_r2_redis_restart.py)",
    ),
    "R3": (
        "PostgreSQL immediate restart under load",
        "needs PostgreSQL server binaries (initdb, pg_ctl) and, as root, a `postgres` system user for the "
        "throwaway cluster (tests/faults/test_r3_postgres_restart.py)",
    ),
    "R4": ("Duplicate and reordered batches", "always runs (tests/faults/test_r4_duplicate_batches.py)"),
    "R5": (
        "Chunk outliving the broker's visibility timeout",
        "the lease always runs (tests/healthbook/cards/test_card_batch_lease.py); the real redelivery needs "
        "redis-server (tests/faults/test_r5_visibility_timeout.py)",
    ),
    "R6": ("20 concurrent code-list editors", "tests/codelists/test_proof_concurrent_editors.py (transactional)"),
    "R7": (
        "Connection dropped after commit, client retries",
        "always runs: live server, raw sockets (tests/faults/test_r7_dropped_connection.py)",
    ),
    "R8": ("Access-log tampering, tail deletion", "tests/healthbook/book/test_proof_access.py"),
    "R9": (
        "Backup and point-in-time restore drill",
        "long check (make proof only): tests/proof/test_restore_drill.py starts a throwaway PostgreSQL 15 "
        "cluster from /usr/lib/postgresql/15/bin (skipped when absent)",
    ),
    "R10": (
        "Disk full on the upload area",
        "always runs: a 256 KiB tmpfs, or a storage failing with ENOSPC (tests/faults/test_r10_disk_full.py)",
    ),
    "R11": (
        "Import throughput and soak",
        "long check (proof_long): only `make proof` runs it (tests/faults/test_r11_throughput.py); "
        "bench/cards_worker_rss.py measures the same for bench/RESULTS.md",
    ),
    "R12": (
        "Read replicas: lag-tolerant reads on a streaming replica, own writes and the access decision on the "
        "primary, lag beyond the threshold back to the primary",
        "needs PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) and, as root, a `postgres` system user "
        "for the throwaway primary and replica (tests/faults/test_r12_read_replicas.py)",
    ),
    "R13": (
        "Several hosts: web and two Celery workers in network namespaces of their own, a card import and an "
        "intake load at once against a PostgreSQL and a Redis on veth addresses",
        "needs root (CAP_NET_ADMIN: `ip netns add`, veth links, a bridge), PostgreSQL server binaries with a "
        "`postgres` system user, and redis-server (tests/faults/test_r13_several_hosts.py, harness netns.py)",
    ),
}


def order(check: str) -> tuple[int, int]:
    """S, then T (issue 15's trust attacks), then R, then numerically (S2 before S10)."""
    kind = {"S": 0, "T": 1}.get(check[:1], 2)
    digits = "".join(ch for ch in check[1:] if ch.isdigit())
    return (kind, int(digits) if digits else 999)


REPORT_HEADER = """
# Reliability and security: the proof table

This file is written by `make proof` (`pytest --proof-long --proof-report docs/RELIABILITY.md`);
do not edit it by hand. The fast part of the same checks runs in `make test` and CI on every
change; `make proof` adds the long ones (marker `proof_long`).

How to read it:

- **Check** is the id in the security plan (`../shared/domain/security-plan.md` §3: S = attack,
  R = fault; T = the trust attacks of issue 15). One id may have several rows (one per variant
  tried).
- **What was tried** is the attack or fault exactly as the test performed it.
- **Times** counts the attempts (requests, logins, pages × payloads …).
- **Figure** is the measured outcome the plan asks for, e.g. "200 attempts, 0 succeeded".
  Figures are measured in the run, never typed in.
- **Result** comes from the test's own assertions: PASS means every figure met its target.
  A FAIL row names a regression to fix before merging.

The generated checks (S6, S7, S10–S13, S16) enumerate what exists at run time — every URL
pattern from the resolver, every operation of the OpenAPI schema, every HTML page reachable per
role — so a view added later is covered without touching the tests. A URL that nobody has
classified makes `tests/security/test_url_access.py` fail until it is added to
`tests/security/url_rules.py`.
"""

# (what, why not here, what stands in for it)
CANNOT_RUN = [
    (
        "OWASP ZAP baseline / active scan",
        "not installable (not in Debian 12, no Docker pull, no network)",
        "the header/cookie crawler (S16) checks the passive rules 10010, 10011, 10020, 10021, 10035, 10054, 10023",
    ),
    ("External penetration test", "needs people and a networked target", "schedule before go-live (plan §4.4)"),
    (
        "HSTS/TLS as a real browser sees it over the network",
        "TLS ends at the reverse proxy, absent here",
        "S16 checks HSTS on requests marked secure, under the production settings",
    ),
    (
        "OCSP/CRL fetched from the licensed Vietnamese CAs",
        "no network; and the intake has no CRL/OCSP check yet (trust = certificates chaining to the ministry's "
        "trust anchors, `ca_trust`)",
        "S23 and T4 check a certificate revoked in the portal's register (SIG_CERT_REVOKED, by receipt time); "
        "CRL/OCSP is an open gap",
    ),
    ("WebAuthn with hardware keys", "no authenticator device here", "TOTP and recovery codes are tested (S4)"),
    (
        "Restore drill on the production backup store",
        "production storage is not reachable",
        "R9 (long) restores a throwaway cluster with WAL archiving",
    ),
]


def report_footer() -> str:
    lines = [
        "## What cannot be run on this machine, and why",
        "",
        "| What | Why not here | What stands in for it |",
        "|---|---|---|",
    ]
    lines += [f"| {what} | {why} | {instead} |" for what, why, instead in CANNOT_RUN]
    return "\n".join(lines)
