"""Request size limits (413 as JSON) and the security headers on every response."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from characters.models import Character
from tests.helpers import png_upload

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


def assert_too_large(response):
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Request body is too large."}


def test_oversized_json_body_is_413(auth_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"slug": "big", "name": "Big", "system_prompt": "x" * 2000}
    assert_too_large(auth_client.post(URL, body))
    assert not Character.objects.exists()
    assert auth_client.post(URL, {"slug": "small", "name": "Small"}).status_code == 201


def test_oversized_multipart_upload_is_413(auth_client, settings):
    settings.REQUEST_MAX_BYTES = 2000
    png = png_upload().read()
    image = SimpleUploadedFile("big.png", png + b"\0" * 5000, content_type="image/png")
    body = {"slug": "big", "name": "Big", "image": image}
    assert_too_large(auth_client.post(URL, body, format="multipart"))
    assert not Character.objects.exists()


def test_multipart_fields_over_the_memory_limit_are_413(auth_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"slug": "big", "name": "Big", "system_prompt": "x" * 5000, "image": png_upload()}
    assert_too_large(auth_client.post(URL, body, format="multipart"))


def test_uploads_below_the_request_cap_pass(auth_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"slug": "pictured", "name": "Pictured", "image": png_upload(size=(300, 300))}
    assert auth_client.post(URL, body, format="multipart").status_code == 201


def test_oversized_body_outside_the_api_is_413_too(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post("/admin/login/", data="x" * 500, content_type="text/plain")
    assert response.status_code == 413


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response):
    for header, value in SECURITY_HEADERS.items():
        assert response[header] == value, (header, response.status_code)


def test_every_kind_of_response_carries_the_security_headers(
    api_client, auth_client, character, settings
):
    etag = auth_client.get(f"{URL}{character.slug}/")["ETag"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    responses = [
        auth_client.get(URL),  # 200
        auth_client.get(f"{URL}{character.slug}/", HTTP_IF_NONE_MATCH=etag),  # 304
        api_client.get(URL),  # 401
        auth_client.get(f"{URL}nobody/"),  # 404
        auth_client.post(URL, {"system_prompt": "x" * 500}),  # 413
        auth_client.generic("POST", URL, "{not json", content_type="application/json"),  # 400
        api_client.get("/healthz"),
        api_client.get("/admin/login/"),
    ]
    assert {r.status_code for r in responses} >= {200, 304, 400, 401, 404, 413}
    for response in responses:
        assert_security_headers(response)


def test_throttled_responses_carry_the_security_headers(auth_client, settings):
    settings.API_THROTTLE_RATE = "1/minute"
    auth_client.get(URL)
    response = auth_client.get(URL)
    assert response.status_code == 429
    assert_security_headers(response)


def test_hsts_on_https(auth_client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = auth_client.get(URL, secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in auth_client.get(URL)  # never on plain HTTP


def test_error_bodies_are_json(auth_client):
    response = auth_client.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in json.loads(response.content)


# Found by the fuzz stage (.ci/fuzz).


def test_unsafe_methods_on_unknown_api_paths_are_json_404_not_the_csrf_page(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.delete("/api/knowledge-base/x/documents/%C2%84/", HTTP_ORIGIN="https://x.y")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
