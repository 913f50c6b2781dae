"""FHIR R4 ConceptMap read, search and `$translate` (issue 17, point 4).

A concept map is the mappings of one code list's version to another list: the DVKT list
(`dvkt`, the technical services of the QĐ 4440 sheet) mapped to the ministry's ICD-9-CM list
(`icd9cm`), loaded by `load_codelists` from `seed/icd9cm-dvkt-map.csv` (codelists/loading.py).
`$translate` answers from the source list's version in force on `date` (default today), or the
version named; `reverse=true` goes from an ICD-9-CM code back to the services it groups. A code
without a mapping is `result: false` (200), as the operation defines; bad input (no code, a
system the map does not join, an unknown map, a bad date) is an OperationOutcome with a 4xx.
"""

from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from codelists.fhir import FhirError, _date, _param, _params, _response, fhir_status, fhir_view
from codelists.in_force import version_in_force
from codelists.models import CodeSystem, CodeSystemVersion, ConceptMapping
from codelists.selectors import latest_published

TRANSLATE_MAX_MATCHES = 1000
FROZEN = ("published", "retired")  # drafts are not served by these endpoints


@dataclass(frozen=True)
class MapDef:
    id: str
    source: str  # code system key
    target: str
    title_vi: str


# The concept maps served. A map's mappings are ConceptMapping rows of the source list's version.
CONCEPT_MAPS = {
    "dvkt-icd9cm": MapDef(
        "dvkt-icd9cm",
        "dvkt",
        "icd9cm",
        "Đối chiếu mã tương đương dịch vụ kỹ thuật (DVKT) với mã ICD-9-CM (QĐ 4440/QĐ-BYT)",
    ),
}

# R4 ConceptMapElement.target.equivalence for our stored relationship, read forward and back.
EQUIVALENCE = {
    "equivalent": ("equivalent", "equivalent"),
    "source-is-narrower-than-target": ("wider", "narrower"),
    "source-is-broader-than-target": ("narrower", "wider"),
    "related-to": ("relatedto", "relatedto"),
}


def map_url(source: CodeSystem, mapdef: MapDef) -> str:
    """The map's canonical URL, beside its source list's (…/CodeSystem/dvkt → …/ConceptMap/dvkt-icd9cm)."""
    return source.canonical_url.rsplit("/CodeSystem/", 1)[0] + f"/ConceptMap/{mapdef.id}"


def _systems(mapdef: MapDef) -> tuple[CodeSystem, CodeSystem]:
    systems = {s.key: s for s in CodeSystem.objects.filter(key__in=(mapdef.source, mapdef.target))}
    if len(systems) < 2:
        raise FhirError(404, "not-found", f"The concept map {mapdef.id} is not loaded.")
    return systems[mapdef.source], systems[mapdef.target]


def _source_version(request_params: dict, source: CodeSystem) -> CodeSystemVersion:
    label = request_params.get("conceptMapVersion", "")
    if label:
        version = CodeSystemVersion.objects.filter(system=source, label=label, status__in=FROZEN).first()
        if version is None:
            raise FhirError(404, "not-found", f"The concept map has no version {label!r}.")
        return version
    on = _date(request_params)
    ref = version_in_force(source.key, on or timezone.localdate())
    if ref.version_id is not None:
        return CodeSystemVersion.objects.get(pk=ref.version_id)
    if on is not None:
        raise FhirError(404, "not-found", f"No version of the concept map is in force on {on.isoformat()}.")
    latest = latest_published(source)
    if latest is None:
        raise FhirError(404, "not-found", "The concept map has no published version.")
    return latest


def concept_map_resource(mapdef: MapDef, source: CodeSystem, target: CodeSystem, version, *, elements=None) -> dict:
    body = {
        "resourceType": "ConceptMap",
        "id": mapdef.id,
        "url": map_url(source, mapdef),
        "version": version.label,
        "name": mapdef.id.replace("-", "_").upper(),
        "title": mapdef.title_vi,
        "status": fhir_status(version),
        "publisher": "Bộ Y tế",
        "sourceUri": f"{source.canonical_url}?vs",
        "targetUri": f"{target.canonical_url}?vs",
    }
    if source.legal_basis:
        body["copyright"] = source.legal_basis
    if elements is not None:
        body["group"] = [{"source": source.canonical_url, "target": target.canonical_url, "element": elements}]
    return body


def _mapdef(map_id: str) -> MapDef:
    mapdef = CONCEPT_MAPS.get(map_id)
    if mapdef is None:
        raise Http404
    return mapdef


@require_GET
@fhir_view
def concept_map_search(request):
    entries = []
    for mapdef in CONCEPT_MAPS.values():
        try:
            source, target = _systems(mapdef)
            version = _source_version({}, source)
        except FhirError:
            continue
        url = map_url(source, mapdef)
        if request.GET.get("url") and request.GET["url"].split("|")[0] != url:
            continue
        entries.append(
            {
                "fullUrl": request.build_absolute_uri(f"/fhir/ConceptMap/{mapdef.id}"),
                "resource": concept_map_resource(mapdef, source, target, version),
                "search": {"mode": "match"},
            }
        )
    return _response({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})


@require_GET
@fhir_view
def concept_map_read(request, map_id):
    mapdef = _mapdef(map_id)
    source, target = _systems(mapdef)
    version = _source_version({k: v for k, v in request.GET.items()}, source)
    rows = (
        ConceptMapping.objects.filter(concept__version=version, target_system=target.canonical_url)
        .order_by("concept__code", "target_code")
        .values_list("concept__code", "concept__display_vi", "target_code", "target_display", "relationship")
    )
    elements: list[dict] = []
    for code, display, target_code, target_display, relationship in rows:
        if not elements or elements[-1]["code"] != code:
            elements.append({"code": code, "display": display, "target": []})
        item = {"code": target_code, "equivalence": EQUIVALENCE.get(relationship, ("relatedto",))[0]}
        if target_display:
            item["display"] = target_display
        elements[-1]["target"].append(item)
    return _response(concept_map_resource(mapdef, source, target, version, elements=elements))


def _pick_map(params: dict) -> MapDef:
    url = (params.get("url") or "").split("|")[0]
    if url:
        for mapdef in CONCEPT_MAPS.values():
            if url.rstrip("/").endswith(f"/ConceptMap/{mapdef.id}"):
                return mapdef
        raise FhirError(404, "not-found", f"No concept map has the URL {url}.")
    system = params.get("system", "")
    if not system:
        raise FhirError(400, "required", "The system parameter (or url) is required.")
    key = CodeSystem.objects.filter(canonical_url=system.split("|")[0]).values_list("key", flat=True).first()
    reverse = params.get("reverse", "").lower() == "true"
    for mapdef in CONCEPT_MAPS.values():
        if key == (mapdef.target if reverse else mapdef.source):
            return mapdef
    raise FhirError(404, "not-found", f"No concept map translates codes of {system}.")


@require_http_methods(["GET", "POST"])
@fhir_view
def translate(request):
    params = _params(request)
    reverse_raw = params.get("reverse", "").lower()
    if reverse_raw not in ("", "true", "false"):
        raise FhirError(400, "invalid", "reverse must be true or false.")
    reverse = reverse_raw == "true"
    code = (params.get("code") or "").strip()
    if not code:
        raise FhirError(400, "required", "The code parameter is required.")
    mapdef = _pick_map(params)
    source, target = _systems(mapdef)
    frm, to = (target, source) if reverse else (source, target)
    system = (params.get("system") or "").split("|")[0]
    if not system:
        raise FhirError(400, "required", "The system parameter is required.")
    if system != frm.canonical_url:
        raise FhirError(400, "invalid", f"This concept map translates codes of {frm.canonical_url}, not {system}.")
    wanted = (params.get("targetsystem") or params.get("target") or "").split("|")[0].removesuffix("?vs")
    if wanted and wanted != to.canonical_url:
        raise FhirError(400, "invalid", f"This concept map translates into {to.canonical_url}, not {wanted}.")
    version = _source_version(params, source)
    mappings = ConceptMapping.objects.filter(concept__version=version, target_system=target.canonical_url)
    if reverse:
        rows = mappings.filter(target_code=code).order_by("concept__code")
        rows = rows.values_list("concept__code", "concept__display_vi", "relationship")
    else:
        rows = mappings.filter(concept__code=code).order_by("target_code")
        rows = rows.values_list("target_code", "target_display", "relationship")
    rows = list(rows[: TRANSLATE_MAX_MATCHES + 1])
    url = map_url(source, mapdef)
    out = [_param("result", "Boolean", bool(rows))]
    if not rows:
        out.append(_param("message", "String", f"Code {code} has no mapping in {url} version {version.label}."))
    elif len(rows) > TRANSLATE_MAX_MATCHES:
        rows = rows[:TRANSLATE_MAX_MATCHES]
        out.append(_param("message", "String", f"Only the first {TRANSLATE_MAX_MATCHES} matches are listed."))
    for match_code, display, relationship in rows:
        coding = {"system": to.canonical_url, "code": match_code}
        if display:
            coding["display"] = display
        if reverse:
            coding["version"] = version.label
        out.append(
            {
                "name": "match",
                "part": [
                    _param("equivalence", "Code", EQUIVALENCE.get(relationship, ("relatedto", "relatedto"))[reverse]),
                    _param("concept", "Coding", coding),
                    _param("source", "Uri", f"{url}|{version.label}"),
                ],
            }
        )
    return _response({"resourceType": "Parameters", "parameter": out})
