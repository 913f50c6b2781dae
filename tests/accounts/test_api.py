from django.urls import reverse


def test_api_requires_authentication_with_json_error_shape(client, db):
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "details"}
    assert response.json()["code"] == "not_authenticated"


def test_me_returns_role_and_scope(login, doctor_a):
    data = login(doctor_a).get("/api/v1/me/").json()
    assert (data["role"], data["facility"], data["province"]) == ("doctor", "01001", "01")


def test_staff_api_is_scoped_like_the_pages(login, officer_hanoi, facility_admin_a, facility_admin_b):
    names = [row["username"] for row in login(officer_hanoi).get("/api/v1/staff/").json()["results"]]
    assert names == [facility_admin_a.username]


def test_provinces_api_is_scoped(login, officer_hcm, ministry_admin):
    assert [p["code"] for p in login(officer_hcm).get("/api/v1/provinces/").json()] == ["79"]


def test_schema_and_docs_are_served(login, doctor_a):
    client = login(doctor_a)
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(reverse("api-docs")).status_code == 200


def test_unknown_api_url_is_404_not_500(login, doctor_a):
    assert login(doctor_a).get("/api/v1/nope/").status_code == 404


def test_unmatched_api_url_answers_json_404(login, doctor_a):
    response = login(doctor_a).get("/api/v1/codelists/systems/:bad:/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
