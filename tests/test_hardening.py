"""Input an outsider can send: a clear 4xx, never a 500 (issue 16, items 4-9, 13, 14)."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from knowledge.models import Document
from tests.helpers import PASSWORD, make_docx, make_pdf, start_call, upload, words

pytestmark = pytest.mark.django_db

CHARACTERS = "/api/ai-characters/"
SIGNUP, LOGIN, REFRESH = "/api/auth/signup/", "/api/auth/login/", "/api/auth/refresh/"
CLOSED_REDIS = "redis://127.0.0.1:18299/0"  # nothing listens there


def post_json(client, url, text):
    return client.generic("POST", url, text, content_type="application/json")


def nested(depth):
    return "[" * depth + "]" * depth


def documents_url(character):
    return f"/api/knowledge-base/{character.slug}/documents/"


@pytest.fixture
def post_document(auth_client, character, django_capture_on_commit_callbacks):
    """Upload a file and run its processing (queued on commit) at once."""

    def post(name, content):
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(
                documents_url(character), {"file": upload(name, content)}, format="multipart"
            )
        assert response.status_code == 201, response.content
        return Document.objects.get(pk=response.json()["id"])

    return post


# --- item 4: lone surrogates ---------------------------------------------------------------


@pytest.mark.parametrize("url", [SIGNUP, LOGIN])
def test_a_lone_surrogate_in_the_email_is_400(api_client, url):
    response = post_json(api_client, url, '{"email": "a\\ud800@example.com", "password": "x"}')
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        '{"slug": "s", "name": "N", "language": "\\udfff"}',
        '{"slug": "s", "name": "N", "\\ud800": 1}',
        '{"slug": "s", "name": "N", "background_audio": "\\ud800"}',
    ],
)
def test_a_lone_surrogate_anywhere_in_json_is_400(auth_client, body):
    response = post_json(auth_client, CHARACTERS, body)
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]


# --- item 5: depth, NaN --------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 950, 100_000])
def test_deep_json_is_400(auth_client, depth):
    body = '{"slug": "s", "name": "N", "allowed_origins": ' + nested(depth) + "}"
    response = post_json(auth_client, CHARACTERS, body)
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]


def test_json_at_the_depth_limit_is_parsed(auth_client):
    body = '{"slug": "s", "name": "N", "allowed_origins": ' + nested(31) + "}"
    response = post_json(auth_client, CHARACTERS, body)
    assert response.status_code == 400
    assert "allowed_origins" in response.json()  # reached validation: the field is wrong


@pytest.mark.parametrize("text", [nested(2000), "[NaN]", '["https://a.example", Infinity]'])
def test_bad_json_in_a_multipart_field_is_400_naming_it(auth_client, text):
    body = {"slug": "s", "name": "N", "allowed_origins": text}
    response = auth_client.post(CHARACTERS, body, format="multipart")
    assert response.status_code == 400
    assert "must be JSON text" in response.json()["allowed_origins"][0]


def test_nan_in_a_json_body_is_400(auth_client):
    response = post_json(auth_client, CHARACTERS, '{"slug": "s", "name": "N", "x": NaN}')
    assert response.status_code == 400


def test_deeply_nested_tool_input_schema_is_400(auth_client, character):
    schema = {"type": "object"}
    for _ in range(100):
        schema = {"type": "object", "properties": {"a": schema}}
    tool = {"name": "t", "kind": "http", "config": {"url": "https://api.example.com/x"}}
    # Sent as text: the nesting is in the schema, under the JSON body bound it would hit first.
    response = auth_client.patch(
        f"{CHARACTERS}{character.slug}/",
        json.dumps({"tools": [{**tool, "input_schema": schema}]}),
        content_type="application/json",
    )
    assert response.status_code == 400


def test_tool_input_schema_depth_is_bounded_under_the_body_limit(auth_client, character, settings):
    settings.JSON_MAX_DEPTH = 1000
    schema = {"type": "object"}
    for _ in range(100):
        schema = {"type": "object", "properties": {"a": schema}}
    tool = {"name": "t", "kind": "http", "config": {"url": "https://api.example.com/x"}}
    response = auth_client.patch(
        f"{CHARACTERS}{character.slug}/", {"tools": [{**tool, "input_schema": schema}]}
    )
    assert response.status_code == 400
    assert "nested deeper than 16 levels" in json.dumps(response.json()["tools"])


# --- item 6: Django's SuspiciousOperation family ------------------------------------------


def test_too_many_multipart_fields_is_400(auth_client):
    body = {"slug": "s", "name": "N", **{f"f{n}": "x" for n in range(1001)}}
    response = auth_client.post(CHARACTERS, body, format="multipart")
    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]


def test_too_many_files_is_400(auth_client, character):
    files = [SimpleUploadedFile(f"{n}.txt", b"hello") for n in range(101)]
    response = auth_client.post(documents_url(character), {"file": files}, format="multipart")
    assert response.status_code == 400
    assert "DATA_UPLOAD_MAX_NUMBER_FILES" in response.json()["detail"]
    assert not Document.objects.exists()


# --- item 7 --------------------------------------------------------------------------------


def test_a_deleted_users_refresh_token_is_401(api_client, make_user):
    user = make_user()
    refresh = str(RefreshToken.for_user(user))
    user.delete()
    response = api_client.post(REFRESH, {"refresh": refresh})
    assert response.status_code == 401


@pytest.mark.parametrize("user_id", ["abc", "1.5", "-1", True, None, 10**30, "\uff19"])
@pytest.mark.parametrize("token_kind", ["access", "refresh"])
def test_a_signed_token_with_a_bad_user_id_is_401(api_client, user, user_id, token_kind):
    refresh = RefreshToken.for_user(user)
    if token_kind == "access":
        access = refresh.access_token
        access["user_id"] = user_id
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        responses = [api_client.get(CHARACTERS), api_client.post(CHARACTERS, {})]
    else:
        refresh["user_id"] = user_id
        responses = [
            api_client.post(REFRESH, {"refresh": str(refresh)}),
            api_client.post("/api/auth/logout/", {"refresh": str(refresh)}),
        ]
    assert [r.status_code for r in responses] == [401, 401]


@pytest.mark.parametrize(
    "name",
    ["notes." + "x" * 300, "notes." + "é" * 200, "ü" * 250 + ".txt", "a." + "日本" * 60, "..txt"],
)
def test_upload_names_with_long_or_multibyte_extensions_are_stored(auth_client, character, name):
    response = auth_client.post(
        documents_url(character), {"file": upload(name, words(20))}, format="multipart"
    )
    assert response.status_code == 201, response.content
    stored = Document.objects.get().file.name.rsplit("/", 1)[-1]
    assert len(stored.encode()) <= 120


@pytest.mark.parametrize(
    "url", ["/admin/characters/character/?q=%00", "/admin/accounts/user/?q=a%00b"]
)
def test_admin_pages_refuse_nul_in_the_query(admin_client, url):
    assert admin_client.get(url).status_code == 400


# --- item 8: hostile documents -------------------------------------------------------------


def pdf_with_lone_surrogate():
    """A PDF whose font maps "A" to U+D800 (pypdf then extracts a lone surrogate)."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /X def\n"
        b"1 begincodespacerange <00> <FF> endcodespacerange\n"
        b"1 beginbfchar <41> <D800> endbfchar\nendcmap CMapName currentdict /CMap "
        b"defineresource pop end end"
    )
    pdf = make_pdf([["AAA hello world"]])
    pdf = pdf.replace(b"/BaseFont /Helvetica >>", b"/BaseFont /Helvetica /ToUnicode 99 0 R >>")
    stream = b"99 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (len(cmap), cmap)
    return pdf.replace(b"xref\n", stream + b"xref\n", 1)


def test_a_pdf_with_a_lone_surrogate_is_processed(post_document):
    document = post_document("odd.pdf", pdf_with_lone_surrogate())
    assert document.status == "PROCESSED"
    assert "hello world" in document.chunks.get().text


def docx_bomb(unpacked_bytes):
    """A real DOCX plus one member of zeros that deflates a thousandfold."""
    buffer = io.BytesIO(make_docx(["Hello"]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", bytes(unpacked_bytes))
    return buffer.getvalue()


def test_a_docx_zip_bomb_fails_with_a_readable_error(post_document, settings):
    settings.KNOWLEDGE_MAX_UNZIPPED_BYTES = 1024 * 1024
    bomb = docx_bomb(4 * 1024 * 1024)
    assert len(bomb) < 50_000
    document = post_document("bomb.docx", bomb)
    assert (document.status, document.error) == (
        "FAILED",
        "The Word document unpacks to more than 1048576 bytes; it may be damaged.",
    )


def test_text_beyond_the_limit_fails_with_a_readable_error(post_document, settings):
    settings.KNOWLEDGE_MAX_TEXT_CHARACTERS = 1000
    pdf = make_pdf([[words(10, start=line * 10 + 1) for line in range(30)]])
    document = post_document("big.pdf", pdf)
    assert document.status == "FAILED"
    assert "more than 1000 characters" in document.error


# --- item 9: Redis down --------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = CLOSED_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CLOSED_REDIS,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    settings.DJANGO_REDIS_LOGGER = "oshara.cache"


def test_redis_down_degrades_instead_of_failing(api_client, user, redis_down, caplog):
    login = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    assert login.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")
    created = client.post(CHARACTERS, {"slug": "up", "name": "Up", "allowed_origins": []})
    assert created.status_code == 201
    assert client.get(f"{CHARACTERS}up/").status_code == 200
    appearance = api_client.get("/api/agents/up/appearance/", HTTP_ORIGIN="https://a.example")
    assert appearance.status_code in (200, 403)
    health = api_client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "unreachable",
        "worker": "ok",  # tasks run in the request here (the immediate backend)
    }
    assert any(record.name == "oshara.cache" for record in caplog.records)


@pytest.mark.usefixtures("calls_settings")
def test_redis_down_still_starts_calls(api_client, widget_character, redis_down):
    """The widget's cache and the session throttle's counter share one round trip; without
    Redis, session start reads the character from the database and lets the call start."""
    response = start_call(api_client)
    assert response.status_code == 200
    assert response.json()["system_prompt"] == "You help shoppers."
    assert start_call(api_client, agent="no-such-agent").status_code == 404


def test_healthz_reports_the_cache(api_client):
    assert api_client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "cache": "ok",
        "worker": "ok",  # tasks run in the request here (the immediate backend)
    }


# --- item 13: chunked bodies ---------------------------------------------------------------


def test_a_chunked_body_is_411_not_ignored(auth_client):
    response = auth_client.post(
        CHARACTERS, {"slug": "s", "name": "N"}, HTTP_TRANSFER_ENCODING="chunked"
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]


# --- item 14: IDN e-mail ------------------------------------------------------------------


def test_an_idn_email_and_its_punycode_are_one_account(api_client):
    body = {"email": "Ana@Bücher.example", "password": "correct-horse-battery-9"}
    assert api_client.post(SIGNUP, body).status_code == 201
    twin = {"email": "ana@xn--bcher-kva.example", "password": "correct-horse-battery-9"}
    response = api_client.post(SIGNUP, twin)
    assert response.status_code == 400
    assert "email" in response.json()
    for email in ("ana@bücher.example", "ANA@XN--BCHER-KVA.EXAMPLE"):
        login = api_client.post(LOGIN, {"email": email, "password": body["password"]})
        assert login.status_code == 200
    me = client_for_token(login.json()["access"]).get("/api/auth/me/")
    assert me.json()["email"] == "ana@xn--bcher-kva.example"


def client_for_token(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_any_processing_error_ends_failed_not_pending(post_document, settings, caplog):
    # A misconfiguration makes chunking itself raise: not an extraction error.
    settings.KNOWLEDGE_CHUNK_TOKENS = settings.KNOWLEDGE_CHUNK_OVERLAP_TOKENS = 10
    document = post_document("notes.txt", words(50))
    assert (document.status, document.error) == (
        "FAILED",
        "The document could not be processed; upload it again or contact support.",
    )
    assert "Processing document" in caplog.text
