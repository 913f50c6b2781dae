from django.urls import path

from codelists import fhir

urlpatterns = [
    path("metadata", fhir.capability_statement, name="fhir-metadata"),
    path("CodeSystem", fhir.code_system_search, name="fhir-codesystem-search"),
    path("CodeSystem/$lookup", fhir.lookup, name="fhir-codesystem-lookup"),
    path("CodeSystem/$validate-code", fhir.validate_code, name="fhir-codesystem-validate-code"),
    path("CodeSystem/<slug:key>", fhir.code_system_read, name="fhir-codesystem-read"),
    path("ValueSet/$expand", fhir.value_set_expand, name="fhir-valueset-expand"),
]
