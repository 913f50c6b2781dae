"""Enumerate every URL pattern of the project and turn it into a concrete path.

The list is read from the resolver at collection time, so a URL added by any app is part of
every generated check without anyone touching the tests.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from tests.security import url_rules

# Values that match no object, per converter / regex group shape.
_NOTHING = {
    "uuid": lambda: str(uuid.uuid4()),
    "int": lambda: "987654321",
    "slug": lambda: "zz-none",
    "str": lambda: "zz-none",
    "path": lambda: "zz-none",
}


@dataclass(frozen=True)
class Endpoint:
    name: str | None
    route: str  # full route as written (converters / regex included)
    pattern_parts: tuple  # tuple of (kind, text) with kind "route" or "regex"
    callback: object

    @property
    def label(self) -> str:
        return self.name or self.route

    @property
    def rule(self):
        return url_rules.rule_for(self.name, self.route)

    @property
    def params(self) -> list[tuple[str, str]]:
        """(parameter name, converter or 'regex') for every path parameter."""
        out = []
        for kind, text in self.pattern_parts:
            if kind == "route":
                out += [(name, conv or "str") for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", text)]
            else:
                out += [(name, "regex") for name in re.findall(r"\(\?P<(\w+)>", text)]
        return out

    def path(self, values: dict | None = None) -> str:
        """A concrete path: given values for named parameters, harmless non-matching ones for the rest."""
        values = {k: str(v) for k, v in (values or {}).items()}
        out = "/"
        for kind, text in self.pattern_parts:
            if kind == "route":
                out += re.sub(
                    r"<(?:(\w+):)?(\w+)>",
                    lambda m: values.get(m.group(2)) or _NOTHING.get(m.group(1) or "str", _NOTHING["str"])(),
                    text,
                )
            else:
                out += _fill_regex(text, values)
        return out


def _fill_regex(text: str, values: dict) -> str:
    text = text.lstrip("^").rstrip("$").replace("\\Z", "")

    def group(m):
        name, body = m.group(1), m.group(2)
        if name in values:
            return values[name]
        if name == "app_label":
            return "accounts"
        if "0-9A-Za-z" in body:
            return "zz0"
        return "zz-none"

    text = re.sub(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)", group, text)
    text = re.sub(r"\.\*$", "zz-none", text)
    return text


def endpoints() -> list[Endpoint]:
    out: list[Endpoint] = []

    def walk(resolver: URLResolver, parts: tuple, ns: str | None):
        for p in resolver.url_patterns:
            part = _part(p.pattern)
            if isinstance(p, URLResolver):
                child_ns = ":".join(x for x in (ns, p.namespace) if x) or None
                walk(p, parts + (part,), child_ns)
            elif isinstance(p, URLPattern):
                name = f"{ns}:{p.name}" if ns and p.name else p.name
                all_parts = parts + (part,)
                out.append(
                    Endpoint(
                        name=name, route="".join(t for _, t in all_parts), pattern_parts=all_parts, callback=p.callback
                    )
                )

    walk(get_resolver(), (), None)
    return out


def _part(pattern) -> tuple[str, str]:
    if isinstance(pattern, RoutePattern):
        return ("route", str(pattern))
    if isinstance(pattern, RegexPattern):
        return ("regex", pattern.regex.pattern)
    return ("route", str(pattern))


def is_api(endpoint: Endpoint) -> bool:
    """JSON endpoints: the REST API and FHIR (anonymous callers get 401/403, not the login page)."""
    return endpoint.route.startswith(("api/", "fhir/"))


# --- crawling: every page reachable per role ---------------------------------------------------

_HREF = re.compile(r'(?:href|action)="(/[^"#]*)"')
_SKIP = ("/static/", "/media/", "/i18n/")
MAX_PAGES_PER_ACTOR = 250


@dataclass
class Visit:
    actor: str
    path: str
    response: object


def crawl(clients: dict, *, secure: bool = False, start: list[str] | None = None) -> list[Visit]:
    """GET every resolver path and every same-site link found on the way, as each actor."""
    import html

    seeds = start if start is not None else [e.path() for e in endpoints()]
    visits = []
    for actor, client in clients.items():
        queue, seen = list(dict.fromkeys(seeds)), set()
        while queue and len(seen) < MAX_PAGES_PER_ACTOR:
            path = queue.pop(0)
            if path in seen or path.startswith(_SKIP):
                continue
            seen.add(path)
            response = client.get(path, secure=secure)
            visits.append(Visit(actor, path, response))
            if "text/html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
                for link in _HREF.findall(response.content.decode("utf-8", "replace")):
                    link = html.unescape(link)
                    if link not in seen:
                        queue.append(link)
    return visits
