"""The service's own 403, 404 and 500 pages (issue 14: GOV.UK-styled, carrying the
view's message, and no URL list even with DEBUG on)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory, override_settings

from imca_commissioning import errors

pytestmark = pytest.mark.django_db


def test_a_404_is_the_service_page_and_lists_no_urls(client, world):
    client.force_login(world.manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "govuk-heading-l" in body
    assert "api/v1/" not in body  # Django's debug page would list the URL patterns


@override_settings(DEBUG=True)
def test_with_debug_on_a_404_still_lists_no_urls(client, world):
    client.force_login(world.manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "URLconf" not in body
    assert "api/v1/" not in body


def test_a_record_outside_the_tenancy_reads_as_the_same_404(client, world):
    client.force_login(world.outsider)
    response = client.get(f"/advocates/{world.advocate.pk}/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_403_page_carries_the_views_message(rf: RequestFactory, world):
    request = rf.get("/")
    request.user = world.manager
    response = errors.permission_denied(
        request, PermissionDenied("Only the case's supervisor may sign off.")
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "Only the case&#x27;s supervisor may sign off." in body
    assert "You cannot do this" in body


def test_the_500_page_renders_without_any_context(rf: RequestFactory):
    response = errors.server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


def test_the_api_keeps_its_json_404(client, world):
    client.force_login(world.manager)
    response = client.get("/api/v1/cases/999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/favicon.ico"])
def test_the_favicon_is_served_to_anyone(client, path):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
