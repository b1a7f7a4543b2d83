from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_unknown_ticket_is_a_404_page_with_the_site_layout_and_a_way_back(client, staff):
    client.force_login(staff)
    response = client.get("/tickets/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert "Check the ticket number" in html
    assert 'href="/"' in html
    assert 'dir="ltr"' in html


@pytest.mark.django_db
def test_404_page_in_arabic(client, staff):
    client.force_login(staff)
    client.cookies["django_language"] = "ar"
    response = client.get("/tickets/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'dir="rtl"' in html
    assert "غير موجود" in html


@pytest.mark.django_db
def test_technician_on_the_agency_form_gets_a_403_page_saying_why(client, technician):
    client.force_login(technician)
    response = client.get("/tickets/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Not available to you</h1>" in html
    assert "Use the console" in html


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("language", "direction", "heading", "text"),
    [
        ("en", "ltr", "Something went wrong", "try again in a minute"),
        ("ar", "rtl", "حدث خطأ ما", "حاول مرة أخرى بعد دقيقة"),
    ],
)
def test_a_server_error_is_the_products_own_page_in_the_users_language(
    client, settings, staff, language, direction, heading, text
):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(staff)
    client.cookies["django_language"] = language
    response = client.get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert f'dir="{direction}"' in html
    assert f"<h1>{heading}</h1>" in html and text in html
    assert "Traceback" not in html and "RuntimeError" not in html
    assert 'href="/"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "heading"), [("en", "This form has expired"), ("ar", "انتهت صلاحية هذا النموذج")])
def test_an_expired_form_is_the_products_own_403_page(settings, staff, language, heading):
    from django.test import Client

    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    client.cookies["django_language"] = language
    response = client.post("/tickets/new/", {"subject": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert f"<h1>{heading}</h1>" in html
    assert "CSRF verification failed" not in html


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize(
    ("path", "status", "language", "heading"),
    [
        ("/no/such/page/", 404, "en", "Not found"),
        ("/no/such/page/", 404, "ar", "غير موجود"),
        ("/suspicious/", 400, "en", "This request was not understood"),
        ("/suspicious/", 400, "ar", "تعذّر فهم هذا الطلب"),
    ],
)
def test_with_debug_off_a_wrong_address_or_request_is_the_products_own_page(
    client, settings, path, status, language, heading
):
    settings.DEBUG = False
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in response.content.decode()
