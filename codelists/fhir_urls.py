from django.urls import path

from codelists import conceptmaps, fhir

urlpatterns = [
    path("metadata", fhir.capability_statement, name="fhir-metadata"),
    path("CodeSystem", fhir.code_system_search, name="fhir-codesystem-search"),
    path("CodeSystem/$lookup", fhir.lookup, name="fhir-codesystem-lookup"),
    path("CodeSystem/$validate-code", fhir.validate_code, name="fhir-codesystem-validate-code"),
    path("CodeSystem/<slug:key>", fhir.code_system_read, name="fhir-codesystem-read"),
    path("ConceptMap", conceptmaps.concept_map_search, name="fhir-conceptmap-search"),
    path("ConceptMap/$translate", conceptmaps.translate, name="fhir-conceptmap-translate"),
    path("ConceptMap/<slug:map_id>", conceptmaps.concept_map_read, name="fhir-conceptmap-read"),
    path("ValueSet/$expand", fhir.value_set_expand, name="fhir-valueset-expand"),
]
