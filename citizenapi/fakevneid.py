"""A fake VNeID platform for development (`make run` starts it, http://127.0.0.1:8010): a small
separate web app with its own Ed25519 key pair that "signs in" a demo citizen and shows their
health book through the citizen API, as the real app would — a real HTTP client, a new signed
token for every call. Pages in Vietnamese, rendered on the server; no script, one CSS file.

    python -m citizenapi.fakevneid --config var/fake-vneid/config.json [--port 8010]

The config (key path, kid, issuer, audience, portal URL, demo citizens) is written by
`manage.py citizen_platform_demo`, which also registers the public key. Not part of the portal:
it imports no Django, only the token signer.
"""

from __future__ import annotations

import argparse
import html
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from citizenapi.tokens import token_sign

CSS_FILE = Path(__file__).with_name("fakevneid.css")
PAGES = [
    ("summary", "Tổng quan"),
    ("visits", "Lượt khám"),
    ("labs", "Xét nghiệm"),
    ("vaccinations", "Tiêm chủng"),
    ("prescriptions", "Đơn thuốc"),
    ("follow-ups", "Lịch tái khám"),
    ("pregnancies", "Thai sản"),
    ("certificates", "Giấy tờ"),
    ("access-log", "Ai đã xem sổ"),
]
SESSIONS: dict[str, dict] = {}  # cookie -> {"pid", "name", "act_for"}
E = html.escape


def ddmmyyyy(value) -> str:
    """ISO date or datetime → dd/mm/yyyy (hh:mm for times, already in Vietnam time from the API)."""
    if not value:
        return ""
    text = str(value)
    day = f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    return f"{day} {text[11:16]}" if len(text) > 10 else day


class Platform:
    def __init__(self, config: dict):
        self.config = config
        self.key = serialization.load_pem_private_key(Path(config["key"]).read_bytes(), password=None)

    def token(self, session: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.config["issuer"],
            "aud": self.config["audience"],
            "sub": session["pid"],
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_hex(16),
        }
        if session.get("act_for"):
            claims["act_for"] = {"pid": session["act_for"]["pid"], "relationship": "parent"}
        return token_sign(claims, self.key, kid=self.config["kid"])

    def call(self, session: dict, path: str) -> tuple[int, bytes, str]:
        request = urllib.request.Request(  # noqa: S310 — the portal URL of our own config (http)
            f"{self.config['portal']}/api/citizen/v1/{path}",
            headers={"Authorization": f"Citizen-Token {self.token(session)}", "Accept-Language": "vi"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — our own portal URL
                return response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")
        except OSError as exc:
            body = json.dumps({"code": "portal_unreachable", "message": f"Không kết nối được cổng: {exc}"})
            return 502, body.encode(), "application/json"


# ---------------------------------------------------------------- rendering


def table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p class='empty'>Chưa có dữ liệu.</p>"
    head = "".join(f"<th>{E(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fac(f) -> str:
    return E(f["name"]) if f else ""


def render_summary(d: dict) -> str:
    c, card = d["citizen"], d["card"]
    facts = [
        ("Họ và tên", E(c["full_name"])),
        ("Ngày sinh", ddmmyyyy(c["birth_date"])),
        ("Giới tính", E(c["sex_label"] or "")),
        ("Số định danh", E(c["personal_id_masked"])),
        ("Tỉnh/thành cư trú", E(c["residence_province"] or "")),
        ("Thẻ BHYT", f"{E(card['number'] or '')} — {E(card['status_label'])}"),
        ("Nơi đăng ký KCB ban đầu", fac(card["primary_care"])),
    ]
    out = "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    for title, key in (
        ("Bệnh mạn tính", "chronic_conditions"),
        ("Dị ứng", "allergies"),
        ("Vấn đề đang theo dõi", "active_problems"),
    ):
        items = "".join(f"<li>{E(x['code'])} {E(x['name'])}</li>" for x in d[key]) or "<li>Không có</li>"
        out += f"<h3>{title}</h3><ul>{items}</ul>"
    out += "<h3>Lần khám gần đây</h3>" + table(
        ["Ngày", "Cơ sở", "Loại", "Chẩn đoán"],
        [
            [
                ddmmyyyy(v["at"]),
                fac(v["facility"]),
                E(v["visit_type"]),
                E(f"{v['main_diagnosis']['code']} {v['main_diagnosis']['name']}"),
            ]
            for v in d["last_visits"]
        ],
    )
    return out


def render_visits(d: dict) -> str:
    rows = []
    for v in d["visits"]:
        dx = "<br>".join(E(f"{x['code']} {x['name']}") for x in v["diagnoses"])
        drugs = "<br>".join(E(f"{m['name']} {m['quantity']} {m['unit']} — {m['usage']}") for m in v["medications"])
        rows.append([ddmmyyyy(v["at"]), fac(v["facility"]), dx, drugs])
    more = f"<p><a href='/book/visits?page={d['next_page']}'>Trang sau</a></p>" if d["next_page"] else ""
    return table(["Ngày", "Cơ sở", "Chẩn đoán", "Thuốc"], rows) + more


def render_labs(d: dict) -> str:
    return table(
        ["Chỉ số", "Số lần", "Gần nhất", "Ngoài giới hạn"],
        [
            [
                f"<a href='/book/labs/{urllib.parse.quote(x['code'])}'>{E(x['name'])}</a>",
                str(x["count"]),
                ddmmyyyy(x["last"]),
                str(x["flagged"]),
            ]
            for x in d["indicators"]
        ],
    )


TRENDS = {"up": "tăng", "down": "giảm", "steady": "ổn định", "unknown": "chưa đủ dữ liệu"}


def render_lab_series(d: dict) -> str:
    head = f"<h3>{E(d['name'])} ({E(d['unit'])}) — xu hướng: {TRENDS[d['trend']]}</h3>"
    return head + table(
        ["Ngày", "Kết quả", "Khoảng tham chiếu", ""],
        [
            [ddmmyyyy(r["at"]), E(f"{r['value']} {r['unit']}"), E(r["reference_range"]), E(r["abnormal_flag"])]
            for r in d["results"]
        ],
    )


def render_vaccinations(d: dict) -> str:
    out = "<h3>Đã tiêm</h3>" + table(
        ["Ngày", "Vắc xin", "Mũi", "Cơ sở"],
        [[ddmmyyyy(g["date"]), E(g["name"]), E(g["dose"]), fac(g["facility"])] for g in d["given"]],
    )
    if d["child"]:
        out += "<h3>Lịch tiêm chủng mở rộng</h3>" + table(
            ["Vắc xin", "Mũi", "Ngày đến hạn", "Tình trạng"],
            [
                [
                    E(r["name"]),
                    E(str(r["dose"])),
                    ddmmyyyy(r["due"]),
                    f"<span class='{E(r['state'])}'>{E(r['state_label'])}</span>",
                ]
                for r in d["schedule"]
            ],
        )
    return out


def render_prescriptions(d: dict) -> str:
    rows = [
        [
            ddmmyyyy(p["at"]),
            fac(p["facility"]),
            "<br>".join(E(f"{m['name']} {m['quantity']} {m['unit']} — {m['usage']}") for m in p["drugs"]),
        ]
        for p in d["prescriptions"]
    ]
    more = f"<p><a href='/book/prescriptions?page={d['next_page']}'>Trang sau</a></p>" if d["next_page"] else ""
    return table(["Ngày", "Cơ sở", "Thuốc"], rows) + more


def render_follow_ups(d: dict) -> str:
    out = ""
    for title, key in (("Sắp tới", "upcoming"), ("Đã lỡ hẹn", "missed"), ("Đã qua", "past")):
        out += f"<h3>{title}</h3>" + table(
            ["Ngày hẹn", "Cơ sở", "Nội dung"],
            [[ddmmyyyy(f["date"]), fac(f["facility"]), E(f["description"])] for f in d[key]],
        )
    return out


def render_pregnancies(d: dict) -> str:
    out = ""
    for p in d["pregnancies"]:
        edd = ddmmyyyy(p["expected_delivery_date"]) + (" (ước tính)" if p["estimated"] else "")
        out += f"<h3>Dự sinh: {edd}</h3>" + table(
            ["Ngày khám", "Cơ sở", "Tuổi thai (tuần)", "Cân nặng (kg)", "Huyết áp"],
            [
                [
                    ddmmyyyy(c["at"]),
                    fac(c["facility"]),
                    E(str(c["gestational_age_weeks"] or "")),
                    E(str(c["weight_kg"] or "")),
                    E(f"{c['systolic_mmhg'] or ''}/{c['diastolic_mmhg'] or ''}"),
                ]
                for c in p["checkups"]
            ],
        )
    return out or "<p class='empty'>Chưa có dữ liệu.</p>"


def render_certificates(d: dict) -> str:
    rows = []
    for c in d["certificates"]:
        link = f"<a href='/book/certificates/{E(c['kind'])}/{c['id']}'>{E(c['kind_label'])}</a>"
        rows.append(
            [
                link,
                E(c["number"]),
                ddmmyyyy(c["issued_on"]),
                fac(c["facility"]),
                "Đã xác thực chữ ký" if c["verified"] else "",
            ]
        )
    return table(["Loại", "Số", "Ngày cấp", "Cơ sở", "Chữ ký"], rows)


def render_certificate(d: dict) -> str:
    fields = "".join(f"<dt>{E(str(k))}</dt><dd>{E(str(v))}</dd>" for k, v in (d["fields"] or {}).items())
    pdf = f"<p><a href='/book/certificates/{E(d['kind'])}/{d['id']}/file'>Tải tệp PDF</a></p>" if d["has_file"] else ""
    return f"<h3>{E(d['kind_label'])} số {E(d['number'])}</h3><dl>{fields}</dl>{pdf}"


def render_access_log(d: dict) -> str:
    out = (
        "<h3>Người đã xem</h3><ul>"
        + ("".join(f"<li>{E(x['text'])}</li>" for x in d["people"]) or "<li>Chưa có ai</li>")
        + "</ul>"
    )
    return (
        out
        + "<h3>Phần mềm đã đọc</h3><ul>"
        + ("".join(f"<li>{E(x['text'])}</li>" for x in d["machines"]) or "<li>Chưa có</li>")
        + "</ul>"
    )


RENDER = {
    "summary": render_summary,
    "visits": render_visits,
    "labs": render_labs,
    "vaccinations": render_vaccinations,
    "prescriptions": render_prescriptions,
    "follow-ups": render_follow_ups,
    "pregnancies": render_pregnancies,
    "certificates": render_certificates,
    "access-log": render_access_log,
}


def page(title: str, body: str, session: dict | None = None) -> bytes:
    nav = ""
    if session:
        who = E(session["name"]) + (
            f" — đang xem sổ của con: {E(session['act_for']['name'])}" if session.get("act_for") else ""
        )
        links = "".join(f"<a href='/book/{slug}'>{label}</a>" for slug, label in PAGES)
        nav = f"<p class='who'>{who} · <a href='/logout'>Đăng xuất</a></p><nav>{links}</nav>"
    return (
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{E(title)} — VNeID (giả lập)</title><link rel='stylesheet' href='/style.css'></head><body>"
        f"<header><strong>VNeID</strong> <span>(giả lập để phát triển)</span> · Sổ sức khỏe điện tử</header>"
        f"<main>{nav}<h2>{E(title)}</h2>{body}</main></body></html>"
    ).encode()


# ---------------------------------------------------------------- the server


class Handler(BaseHTTPRequestHandler):
    platform: Platform

    def _session(self) -> dict | None:
        jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
        sid = jar.get("fakevneid")
        return SESSIONS.get(sid.value) if sid else None

    def _send(self, status: int, body: bytes, content_type="text/html; charset=utf-8", extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, to: str, extra: dict | None = None):
        self._send(303, b"", extra={"Location": to, **(extra or {})})

    def do_GET(self):  # noqa: N802 — http.server's name
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        session = self._session()
        if path == "/style.css":
            return self._send(200, CSS_FILE.read_bytes(), "text/css; charset=utf-8")
        if path == "/":
            return self._redirect("/book/summary" if session else "/login")
        if path == "/login":
            return self._send(200, self._login_page())
        if path == "/logout":
            return self._redirect("/login", {"Set-Cookie": "fakevneid=; Max-Age=0; Path=/"})
        if not session:
            return self._redirect("/login")
        if path.startswith("/book/"):
            return self._book(session, path[len("/book/") :], query)
        return self._send(404, page("Không tìm thấy", "<p>Không có trang này.</p>", session))

    def do_POST(self):  # noqa: N802
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        config = self.platform.config
        people = {p["pid"]: p for p in config["citizens"]}
        children = {p["pid"]: p for p in config["children"]}
        pid = (form.get("pid") or [""])[0]
        child = (form.get("child") or [""])[0]
        if pid not in people:
            return self._redirect("/login")
        sid = secrets.token_urlsafe(24)
        SESSIONS[sid] = {"pid": pid, "name": people[pid]["name"], "act_for": children.get(child)}
        self._redirect("/book/summary", {"Set-Cookie": f"fakevneid={sid}; HttpOnly; SameSite=Lax; Path=/"})

    def _login_page(self) -> bytes:
        config = self.platform.config
        people = "".join(
            f"<label><input type='radio' name='pid' value='{E(p['pid'])}' {'checked' if i == 0 else ''}> {E(p['name'])}"
            f" (•••{E(p['pid'][-3:])})</label>"
            for i, p in enumerate(config["citizens"])
        )
        kids = "".join(
            f"<label><input type='radio' name='child' value='{E(p['pid'])}'> {E(p['name'])}</label>"
            for p in config["children"]
        )
        body = (
            "<p>Môi trường phát triển: chọn một công dân mẫu để đăng nhập (VNeID thật xác thực bằng CCCD gắn chip).</p>"
            f"<form method='post' action='/login'><fieldset><legend>Công dân</legend>{people}</fieldset>"
            f"<fieldset><legend>Xem sổ của con dưới 14 tuổi (không bắt buộc)</legend>"
            f"<label><input type='radio' name='child' value='' checked> Sổ của chính tôi</label>{kids}</fieldset>"
            "<button type='submit'>Đăng nhập bằng VNeID</button></form>"
        )
        return page("Đăng nhập", body)

    def _book(self, session: dict, rest: str, query: str):
        parts = [p for p in rest.split("/") if p]
        titles = dict(PAGES)
        if not parts or (parts[0] not in titles):
            return self._send(404, page("Không tìm thấy", "<p>Không có trang này.</p>", session))
        api_path = "/".join(urllib.parse.quote(p) for p in parts) + "/" + (f"?{query}" if query else "")
        status, body, content_type = self.platform.call(session, api_path)
        if status == 200 and content_type.startswith("application/pdf"):
            return self._send(200, body, "application/pdf", {"Content-Disposition": "attachment; filename=giay-to.pdf"})
        try:
            data = json.loads(body)
        except ValueError:
            data = {"code": "bad_response", "message": f"HTTP {status}"}
        if status != 200:
            message, code = E(str(data.get("message", ""))), E(str(data.get("code", "")))
            text = f"<p class='error'>Cổng trả lời {status}: {message} ({code})</p>"
            return self._send(200, page(titles[parts[0]], text, session))
        if parts[0] == "labs" and len(parts) > 1:
            html_body = render_lab_series(data)
        elif parts[0] == "certificates" and len(parts) > 2:
            html_body = render_certificate(data)
        else:
            html_body = RENDER[parts[0]](data)
        return self._send(200, page(titles[parts[0]], html_body, session))

    def log_message(self, fmt, *args):  # one short line per request, no personal data (no query strings)
        print(
            f"fake VNeID: {self.command} {urllib.parse.urlsplit(self.path).path} -> {args[1] if len(args) > 1 else ''}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="var/fake-vneid/config.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    args = parser.parse_args(argv)
    Handler.platform = Platform(json.loads(Path(args.config).read_text(encoding="utf-8")))
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"fake VNeID platform: http://{args.host}:{args.port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
