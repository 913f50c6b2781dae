"""FHIR R4 terminology endpoints under /fhir/: CodeSystem search and read, $lookup,
$validate-code and ValueSet/$expand (ConceptMap and $translate: codelists/conceptmaps.py).

Published and retired versions are public: no sign-in needed. A draft or a version in
review is answered only to ministry staff (anyone else gets not-found). Errors come back
as an OperationOutcome with a 4xx status.
"""

import datetime as dt
import json
from datetime import date

from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from codelists import selectors
from codelists.access import version_by_label_for_user, versions_visible_to
from codelists.in_force import UnknownCodeSystem, version_in_force
from codelists.models import CodeSystem, CodeSystemVersion, Concept, VersionState, VersionStatus
from codelists.validation import code_validate

FHIR_JSON = "application/fhir+json"
EXPAND_MAX_COUNT = 1000
EXPAND_DEFAULT_COUNT = 100
FHIR_STATUS = {
    VersionState.DRAFT: "draft",
    VersionState.IN_REVIEW: "draft",
    VersionState.UPCOMING: "active",
    VersionState.IN_FORCE: "active",
    VersionState.IN_FORCE_UNTIL: "active",
    VersionState.ENDED: "retired",
}


def fhir_status(version: CodeSystemVersion) -> str:
    """FHIR's publication status: a version is "retired" only once its period has ended; one
    still in force until a later date, or dated in the future, is "active" (with its
    effectivePeriod saying when)."""
    return FHIR_STATUS[version.state]


def effective_period(version: CodeSystemVersion) -> list[dict]:
    if not version.effective_from:
        return []
    period = {"start": version.effective_from.isoformat()}
    if version.effective_to:
        # FHIR periods are inclusive; ours ends the day the next version starts.
        period["end"] = (version.effective_to - dt.timedelta(days=1)).isoformat()
    return [{"url": "http://hl7.org/fhir/StructureDefinition/resource-effectivePeriod", "valuePeriod": period}]


# What the other apps serve under /fhir/ (their CapabilityStatement.rest.resource entries), filled
# when Django starts by the apps that serve them (facilities: Organization, Location; healthbook:
# Patient/$everything): codelists knows nothing of them otherwise.
SERVED_RESOURCES: list[dict] = []


def capability_register(entry: dict) -> None:
    """Add a `rest.resource` entry ({"type": …, "interaction": …, "operation": …}) once."""
    if all(e["type"] != entry["type"] for e in SERVED_RESOURCES):
        SERVED_RESOURCES.append(entry)


def wants_xml_only(request) -> bool:
    """The client asks for a format we do not serve: `_format` or Accept naming XML and no JSON."""
    fmt = request.GET.get("_format", "")
    if fmt:
        return "json" not in fmt
    accept = request.headers.get("Accept", "")
    return "xml" in accept and "json" not in accept and "*/*" not in accept


class FhirError(Exception):
    def __init__(self, status: int, code: str, text: str):
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def _response(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


def outcome(status: int, code: str, text: str) -> JsonResponse:
    return _response(
        {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": text}]},
        status,
    )


def fhir_view(view):
    def wrapped(request, *args, **kwargs):
        if wants_xml_only(request):
            return outcome(406, "not-supported", "Only application/fhir+json is served.")
        try:
            return view(request, *args, **kwargs)
        except FhirError as exc:
            return outcome(exc.status, exc.code, exc.text)
        except Http404:
            return outcome(404, "not-found", "Resource not found.")

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


def _params(request) -> dict[str, str]:
    """Read operation parameters from the query string or a POSTed Parameters resource."""
    params = {k: v for k, v in request.GET.items()}
    if request.method == "POST" and request.body:
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise FhirError(400, "invalid", "The body is not JSON.") from None
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise FhirError(400, "invalid", "The body must be a Parameters resource.")
        for p in body.get("parameter", []) or []:
            if not isinstance(p, dict) or "name" not in p:
                continue
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            if value is not None:
                params[p["name"]] = str(value)
    return params


def _date(params: dict) -> date | None:
    raw = params.get("date", "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise FhirError(400, "invalid", f"date must be YYYY-MM-DD, not {raw!r}.") from None


def _system_by_url(url: str) -> CodeSystem:
    if not url:
        raise FhirError(400, "required", "The system (url) parameter is required.")
    url = url.split("|")[0]
    if url.endswith("?vs"):
        url = url[:-3]
    system = CodeSystem.objects.filter(canonical_url=url).first()
    if system is None:
        raise FhirError(404, "not-found", f"No code system has the URL {url}.")
    return system


def _version(request, system: CodeSystem, params: dict) -> CodeSystemVersion:
    """Pick the version named, else the one in force on `date`, else the one in force today."""
    label = params.get("version") or ""
    url = params.get("url") or params.get("system") or ""
    if not label and "|" in url:
        label = url.split("|", 1)[1]
    if label:
        return version_by_label_for_user(request.user, system, label)
    on = _date(params) or timezone.localdate()
    ref = version_in_force(system.key, on)
    if ref.version_id is not None:
        return CodeSystemVersion.objects.select_related("system").get(pk=ref.version_id)
    if params.get("date"):
        raise FhirError(404, "not-found", f"No version of {system.canonical_url} is in force on {on.isoformat()}.")
    latest = selectors.latest_published(system)
    if latest is None:
        raise FhirError(404, "not-found", f"{system.canonical_url} has no published version.")
    return latest


def code_system_resource(system: CodeSystem, version: CodeSystemVersion | None, *, count: int | None = None) -> dict:
    body = {
        "resourceType": "CodeSystem",
        "id": system.key,
        "url": system.canonical_url,
        "name": system.key.replace("-", "_").upper(),
        "title": system.name_vi,
        "status": fhir_status(version) if version else "draft",
        "publisher": "Bộ Y tế",
        "description": system.description_vi or system.name_vi,
        "caseSensitive": True,
        "valueSet": f"{system.canonical_url}?vs",
        "hierarchyMeaning": "is-a",
        "content": "not-present",
        "property": [{"code": "parent", "type": "code"}, {"code": "inactive", "type": "boolean"}],
    }
    if system.legal_basis:
        body["copyright"] = system.legal_basis
    if version is not None:
        body["version"] = version.label
        if version.published_at:
            body["date"] = version.published_at.isoformat()
        if version.effective_from:
            body["extension"] = effective_period(version)
    if count is not None:
        body["count"] = count
    return body


@require_GET
@fhir_view
def code_system_search(request):
    systems = CodeSystem.objects.order_by("key")
    if request.GET.get("url"):
        systems = systems.filter(canonical_url=request.GET["url"].split("|")[0])
    if request.GET.get("name"):
        systems = systems.filter(key__icontains=request.GET["name"].replace("_", "-"))
    latest = {}
    for v in versions_visible_to(None).filter(system__in=systems, status=VersionStatus.PUBLISHED):
        latest[v.system_id] = v
    entries = [
        {
            "fullUrl": request.build_absolute_uri(f"/fhir/CodeSystem/{s.key}"),
            "resource": code_system_resource(s, latest.get(s.pk)),
            "search": {"mode": "match"},
        }
        for s in systems
    ]
    return _response({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


@require_GET
@fhir_view
def code_system_read(request, key):
    system = CodeSystem.objects.filter(key=key).first()
    if system is None:
        raise Http404
    version = _version(request, system, {k: v for k, v in request.GET.items()})
    return _response(code_system_resource(system, version, count=version.concepts.count()))


def _param(name: str, kind: str, value) -> dict:
    return {"name": name, f"value{kind}": value}


@require_http_methods(["GET", "POST"])
@fhir_view
def lookup(request):
    params = _params(request)
    system = _system_by_url(params.get("system") or params.get("url") or "")
    code = params.get("code") or ""
    if not code:
        raise FhirError(400, "required", "The code parameter is required.")
    version = _version(request, system, params)
    concept = Concept.objects.filter(version=version, code=code).prefetch_related("mappings").first()
    if concept is None:
        raise FhirError(404, "not-found", f"Code {code} is not in {system.canonical_url} version {version.label}.")
    out = [
        _param("name", "String", system.name_vi),
        _param("version", "String", version.label),
        _param("display", "String", concept.display_vi),
    ]
    if concept.display_en:
        out.append(
            {
                "name": "designation",
                "part": [_param("language", "Code", "en"), _param("value", "String", concept.display_en)],
            }
        )
    out.append(
        {
            "name": "property",
            "part": [_param("code", "Code", "inactive"), _param("value", "Boolean", not concept.active)],
        }
    )
    if concept.parent_code:
        out.append(
            {
                "name": "property",
                "part": [_param("code", "Code", "parent"), _param("value", "Code", concept.parent_code)],
            }
        )
    for key, value in sorted(concept.properties.items()):
        out.append({"name": "property", "part": [_param("code", "Code", key), _property_value(value)]})
    for m in concept.mappings.all():
        out.append(
            {
                "name": "property",
                "part": [
                    _param("code", "Code", "mapping"),
                    _param(
                        "value",
                        "Coding",
                        {
                            "system": m.target_system,
                            "code": m.target_code,
                            **({"display": m.target_display} if m.target_display else {}),
                        },
                    ),
                    _param("description", "String", m.relationship),
                ],
            }
        )
    return _response({"resourceType": "Parameters", "parameter": out})


def _property_value(value) -> dict:
    if isinstance(value, bool):
        return _param("value", "Boolean", value)
    if isinstance(value, int):
        return _param("value", "Integer", value)
    if isinstance(value, float):
        return _param("value", "Decimal", value)
    if isinstance(value, str):
        return _param("value", "String", value)
    return _param("value", "String", json.dumps(value, ensure_ascii=False))


REASON_TEXT = {
    "unknown": "The code is in no published version of this code system.",
    "retired": "The code was withdrawn before this date.",
    "inactive": "The code is inactive in the version in force.",
    "not_in_force": "The code is not yet in force on this date.",
}


@require_http_methods(["GET", "POST"])
@fhir_view
def validate_code(request):
    params = _params(request)
    system = _system_by_url(params.get("url") or params.get("system") or "")
    code = params.get("code") or ""
    if not code:
        raise FhirError(400, "required", "The code parameter is required.")
    if params.get("version") or "|" in (params.get("url") or params.get("system") or ""):
        version = _version(request, system, params)
        concept = Concept.objects.filter(version=version, code=code).first()
        ok = bool(concept and concept.active)
        reason = None if ok else ("inactive" if concept else "unknown")
        display, label = (concept.display_vi if concept else ""), version.label
    else:
        on = _date(params) or timezone.localdate()
        try:
            check = code_validate(system.key, code, on)
        except UnknownCodeSystem:
            raise Http404 from None
        ok, reason, display = check.ok, check.reason, check.display_vi
        label = version_in_force(system.key, on).label
    out = [_param("result", "Boolean", ok), _param("code", "Code", code), _param("system", "Uri", system.canonical_url)]
    if label:
        out.append(_param("version", "String", label))
    if display:
        out.append(_param("display", "String", display))
    if reason:
        out.append(_param("message", "String", REASON_TEXT[reason]))
        out.append(_param("reason", "Code", reason))
    return _response({"resourceType": "Parameters", "parameter": out})


def _int(params: dict, name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FhirError(400, "invalid", f"{name} must be a whole number.") from None
    if value < 0:
        raise FhirError(400, "invalid", f"{name} must not be negative.")
    return value


@require_http_methods(["GET", "POST"])
@fhir_view
def value_set_expand(request):
    params = _params(request)
    system = _system_by_url(params.get("url") or params.get("system") or "")
    version = _version(request, system, params)
    offset = _int(params, "offset", 0)
    count = min(_int(params, "count", EXPAND_DEFAULT_COUNT), EXPAND_MAX_COUNT)
    concepts = selectors.concept_search(version, params.get("filter", ""))
    if params.get("activeOnly", "").lower() == "true":
        concepts = concepts.filter(active=True)
    total = concepts.count()
    rows = concepts.values_list("code", "display_vi", "active")[offset : offset + count]
    contains = []
    for code, display, active in rows:
        item = {"system": system.canonical_url, "version": version.label, "code": code, "display": display}
        if not active:
            item["inactive"] = True
        contains.append(item)
    expansion = {
        "identifier": f"urn:sskdt:expansion:{version.pk}:{offset}:{count}",
        "timestamp": timezone.now().isoformat(),
        "total": total,
        "offset": offset,
        "parameter": [
            _param("offset", "Integer", offset),
            _param("count", "Integer", count),
            _param("version", "Uri", f"{system.canonical_url}|{version.label}"),
        ],
    }
    if contains:
        expansion["contains"] = contains
    return _response(
        {
            "resourceType": "ValueSet",
            "url": f"{system.canonical_url}?vs",
            "version": version.label,
            "name": system.key.replace("-", "_").upper(),
            "title": system.name_vi,
            "status": fhir_status(version),
            **({"extension": effective_period(version)} if version.effective_from else {}),
            "expansion": expansion,
        }
    )


@require_GET
@fhir_view
def capability_statement(request):
    return _response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": timezone.now().date().isoformat(),
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "resource": [
                        {
                            "type": "CodeSystem",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [{"name": "url", "type": "uri"}, {"name": "name", "type": "string"}],
                            "operation": [
                                {
                                    "name": "lookup",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
                                },
                                {
                                    "name": "validate-code",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
                                },
                            ],
                        },
                        {
                            "type": "ConceptMap",
                            "interaction": [{"code": "read"}, {"code": "search-type"}],
                            "searchParam": [{"name": "url", "type": "uri"}],
                            "operation": [
                                {
                                    "name": "translate",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ConceptMap-translate",
                                }
                            ],
                        },
                        {
                            "type": "ValueSet",
                            "operation": [
                                {
                                    "name": "expand",
                                    "definition": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
                                }
                            ],
                        },
                        *SERVED_RESOURCES,
                    ],
                }
            ],
        }
    )


@fhir_view
def unknown_route(request, rest: str = ""):
    """Any other /fhir/ URL: an OperationOutcome, not the site's HTML page."""
    raise Http404
