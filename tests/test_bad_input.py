"""Issue 12, "bad input never 500s" (API.md 1.1, Access): every input a client controls
answers 4xx with the field named, never 500, and stores nothing."""

from __future__ import annotations

import json

import pytest

from advocates.models import Advocate
from api.parsers import json_depth
from organisations.models import Commissioner, Contract, Provider, User
from tests.conftest import api_as
from tests.factories import CommissionerFactory, ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return UserFactory(is_superuser=True, is_staff=True, username="platform")


def _post_json(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": []}]}') == 4
    assert json_depth(b'"\\"[[["') == 0


def test_a_body_nested_a_thousand_deep_answers_400_even_anonymously(api):
    resp = _post_json(api, "/api/v1/auth/token/", "[" * 1000 + "]" * 1000)
    assert resp.status_code == 400
    assert "nested" in resp.json()["detail"]


def test_a_deeply_nested_body_from_a_signed_in_manager_answers_400(world):
    body = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    resp = _post_json(api_as(world.manager), "/api/v1/advocates/", body)
    assert resp.status_code == 400


def test_an_oversized_body_answers_413(world, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000})
    resp = _post_json(api_as(world.manager), "/api/v1/advocates/", body)
    assert resp.status_code == 413


@pytest.mark.parametrize("body", ['{"name": NaN}', '{"name": "x"', "\xff\xfe", '{"a": Infinity}'])
def test_malformed_json_answers_400(world, body):
    resp = _post_json(api_as(world.manager), "/api/v1/advocates/", body)
    assert resp.status_code == 400


def test_deleting_a_provider_with_records_answers_409_and_deletes_nothing(world, admin):
    resp = api_as(admin).delete(f"/api/v1/providers/{world.provider.pk}/")
    assert resp.status_code == 409
    assert "depend" in resp.json()["detail"]
    assert Provider.objects.filter(pk=world.provider.pk).exists()


def test_deleting_a_commissioner_with_contracts_answers_409(world, admin):
    pk = world.contract.commissioner_id
    resp = api_as(admin).delete(f"/api/v1/commissioners/{pk}/")
    assert resp.status_code == 409
    assert Commissioner.objects.filter(pk=pk).exists()


def test_a_contract_is_never_deleted_through_the_api(world, admin):
    resp = api_as(admin).delete(f"/api/v1/contracts/{world.contract.pk}/")
    assert resp.status_code == 409
    assert "end_date" in resp.json()["detail"]
    assert Contract.objects.filter(pk=world.contract.pk).exists()


def test_changing_a_users_role_so_its_organisation_no_longer_fits_answers_400(world, admin):
    resp = api_as(admin).patch(
        f"/api/v1/users/{world.commissioner.pk}/", {"role": "provider_manager"}, format="json"
    )
    assert resp.status_code == 400
    assert set(resp.json()) & {"role", "provider", "commissioner"}
    world.commissioner.refresh_from_db()
    assert world.commissioner.role == "commissioner"


def test_giving_a_manager_a_commissioner_too_answers_400(world, admin):
    other = CommissionerFactory()
    resp = api_as(admin).patch(
        f"/api/v1/users/{world.manager.pk}/", {"commissioner": other.pk}, format="json"
    )
    assert resp.status_code == 400 and "commissioner" in resp.json()


def test_an_api_user_update_runs_the_password_validators(world, admin):
    resp = api_as(admin).patch(
        f"/api/v1/users/{world.manager.pk}/", {"password": "123"}, format="json"
    )
    assert resp.status_code == 400 and "password" in resp.json()
    world.manager.refresh_from_db()
    assert world.manager.check_password("correct-horse-battery-staple")


def test_an_api_user_create_runs_the_password_validators(world, admin):
    resp = api_as(admin).post(
        "/api/v1/users/",
        {
            "username": "newbie",
            "password": "password",
            "role": "provider_manager",
            "provider": world.provider.pk,
        },
        format="json",
    )
    assert resp.status_code == 400 and "password" in resp.json()
    assert not User.objects.filter(username="newbie").exists()


def test_a_username_taken_in_another_case_answers_400_naming_username(world, admin):
    resp = api_as(admin).patch(
        f"/api/v1/users/{world.outsider.pk}/", {"username": "MANAGER"}, format="json"
    )
    assert resp.status_code == 400 and "username" in resp.json()


def test_a_commissioners_successors_form_no_loop(admin):
    a = CommissionerFactory(code="A")
    b = CommissionerFactory(code="B", successor=None)
    a.successor = b
    a.save()
    c = CommissionerFactory(code="C")
    b.successor = c
    b.save()
    resp = api_as(admin).patch(f"/api/v1/commissioners/{c.pk}/", {"successor": a.pk}, format="json")
    assert resp.status_code == 400 and "successor" in resp.json()
    c.refresh_from_db()
    assert c.successor_id is None


def test_a_duplicate_provider_name_answers_400_naming_name(admin):
    ProviderFactory(name="Same Name")
    resp = api_as(admin).post("/api/v1/providers/", {"name": "Same Name"}, format="json")
    assert resp.status_code == 400 and "name" in resp.json()


@pytest.mark.parametrize("value", ["null", "0", "-1", "abc", "201", "１"])
def test_a_page_size_the_schema_does_not_allow_answers_400(world, value):
    resp = api_as(world.manager).get(f"/api/v1/advocates/?page_size={value}")
    assert resp.status_code == 400 and "page_size" in resp.json()


@pytest.mark.parametrize("value", ["0", "x", "99999999999999999999"])
def test_a_bad_page_number_answers_400(world, value):
    resp = api_as(world.manager).get(f"/api/v1/advocates/?page={value}")
    assert resp.status_code == 400


def test_an_id_beyond_the_integer_range_is_simply_not_found(world):
    resp = api_as(world.manager).get("/api/v1/advocates/99999999999999999999999/")
    assert resp.status_code == 404


def test_the_schema_describes_the_answers_as_sent(api):
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    parts = schema["components"]["schemas"]
    read = parts["Case"]["properties"]["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    write = parts["CaseRequest"]["properties"]["status"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    assert "report_issued" in parts[read]["enum"]
    assert parts[write]["enum"] == ["allocated", "withdrawn"]
    sign_offs = schema["paths"]["/api/v1/cases/{id}/sign-offs/"]["get"]["responses"]["200"]
    assert sign_offs["content"]["application/json"]["schema"]["type"] == "array"
    params = {p["name"]: p for p in schema["paths"]["/api/v1/advocates/"]["get"]["parameters"]}
    assert params["page_size"]["schema"]["minimum"] == 1
    assert "409" in schema["paths"]["/api/v1/providers/{id}/"]["delete"]["responses"]


@pytest.mark.parametrize("value", ["null", "maybe", "2"])
def test_a_boolean_filter_refuses_what_is_not_a_boolean(world, value):
    resp = api_as(world.manager).get(f"/api/v1/flags/?open={value}")
    assert resp.status_code == 400 and "open" in resp.json()


def test_a_boolean_filter_takes_true_and_false(world):
    assert api_as(world.manager).get("/api/v1/flags/?open=true").status_code == 200
    assert api_as(world.manager).get("/api/v1/flags/?open=false").status_code == 200


WEIRD = ["abc", "-1", "9" * 30, "1.5", "\x00", "%00", "null", "é"]


@pytest.mark.parametrize(
    "persona,path,param",
    [
        ("manager", "/compliance/flags/", "provider"),
        ("manager", "/compliance/flags/", "kind"),
        ("manager", "/compliance/flags/", "state"),
        ("commissioner", "/compliance/dashboard/", "format"),
        ("manager", "/cases/", "status"),
        ("manager", "/cases/allocate/", "advocate"),
        ("manager", "/cases/allocate/", "on"),
        ("commissioner", "/training/matrix/", "provider"),
        ("manager", "/training/matrix/", "sort"),
        ("manager", "/audit/views/", "id"),
        ("manager", "/audit/views/", "page"),
    ],
)
def test_no_web_page_answers_500_to_a_strange_parameter(world, persona, path, param):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(getattr(world, persona))
    for value in WEIRD:
        resp = client.get(path, {param: value})
        assert resp.status_code < 500, (path, param, value, resp.status_code)


def test_a_nul_character_in_a_query_answers_400(world):
    resp = api_as(world.manager).get("/api/v1/cases/?client_reference=%00&case_type=a%00b")
    assert resp.status_code == 400 and "NUL" in resp.json()["detail"]


@pytest.mark.parametrize(
    "path,field",
    [("/api/v1/advocates/", "name"), ("/api/v1/auth/token/", "username")],
)
def test_half_a_surrogate_pair_in_a_json_string_answers_400_not_500(world, path, field):
    # "\ud800" alone is valid JSON text but no UTF-8 answer or database can hold it.
    client = api_as(world.manager)
    client.raise_request_exception = False
    before = Advocate.objects.count()
    resp = _post_json(client, path, f'{{"{field}": "\\ud800x", "provider": {world.provider.pk}}}')
    assert resp.status_code == 400
    assert "surrogate" in resp.json()["detail"]
    assert Advocate.objects.count() == before


def test_a_whole_surrogate_pair_is_just_a_character(world):
    resp = _post_json(
        api_as(world.manager),
        "/api/v1/advocates/",
        json.dumps({"name": "Zoë 😀", "provider": world.provider.pk, "role_start": "2025-01-01"}),
    )
    assert resp.status_code == 201 and resp.json()["name"] == "Zoë 😀"


def test_a_nul_in_a_training_records_unit_answers_400_naming_unit(world):
    client = api_as(world.manager)
    client.raise_request_exception = False
    resp = client.post(
        "/api/v1/training-records/",
        {"advocate": world.advocate.pk, "unit": "30\x005", "route": "full"},
        format="json",
    )
    assert resp.status_code == 400 and "unit" in resp.json()


@pytest.mark.parametrize("method", ["options", "post", "put", "delete"])
def test_the_api_docs_page_answers_405_to_anything_but_get(api, method):
    api.raise_request_exception = False
    assert getattr(api, method)("/api/v1/docs/").status_code == 405
    assert api.get("/api/v1/docs/").status_code == 200
