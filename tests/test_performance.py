"""What the read paths must keep: query counts, exact output, auth and ownership.

Speed itself is measured by `make bench`; here, no timing: query counts that do not grow with
the number of characters, and byte-for-byte equality with DRF's own serialisation.
"""

import io
import itertools

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory

from characters.api.serializers import CharacterSerializer
from characters.models import Character, HandoffTarget
from characters.selectors import characters_for_reading
from knowledge.models import Document
from tests.reference import SALES_AGENT

APPEARANCE = SALES_AGENT["widget_appearance"]


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def make_rich(make_character):
    """A character with every field filled: files, key, appearance, handoffs, a document."""

    def make(owner, targets=(), **fields):
        fields.setdefault("llm_api_key", "sk-test-0123456789")
        character = make_character(
            owner,
            character_type="SUPPORT_AGENT",
            system_prompt="You are a sales assistant. " * 60,
            greeting="Hi there!",
            voice_url="https://cdn.example.com/voice.mp3",
            language="pt-BR",
            background_audio="office",
            allowed_origins=["https://acme.com", "https://www.acme.com"],
            widget_appearance=APPEARANCE,
            stt_model="whisper-en-large",
            llm_model="gpt-4o",
            **fields,
        )
        character.image.save("avatar.png", ContentFile(png_bytes()), save=False)
        character.voice_audio_file.save("voice.mp3", ContentFile(b"ID3 audio"), save=False)
        character.save()
        for position, target in enumerate(targets):
            HandoffTarget.objects.create(source=character, target=target, position=position)
        Document.objects.create(character=character, file="documents/faq.md", file_type="md")
        return character

    return make


def drf_json(instance, request):
    """The reference: DRF's generic Serializer.to_representation, field by field."""
    serializer = CharacterSerializer(instance, context={"request": request})
    return JSONRenderer().render(serializers.Serializer.to_representation(serializer, instance))


def select_count(captured):
    return sum(1 for query in captured if query["sql"].lstrip().upper().startswith("SELECT"))


def test_retrieve_is_byte_identical_to_drf(auth_client, user, make_rich):
    first, second = make_rich(user), make_rich(user, llm_api_key=None)
    character = make_rich(user, targets=[second, first])
    response = auth_client.get(f"/api/ai-characters/{character.slug}/")
    request = APIRequestFactory().get("/")
    assert response.status_code == 200
    assert response.content == drf_json(Character.objects.get(pk=character.pk), request)
    assert response.json()["handoff_targets"] == [
        {"slug": second.slug, "name": second.name},
        {"slug": first.slug, "name": first.name},
    ]
    assert response.json()["image"].startswith("http://testserver/")


def test_list_is_byte_identical_to_drf(auth_client, user, make_rich, make_character):
    keyless = make_character(user)
    rich = make_rich(user, targets=[keyless])
    response = auth_client.get("/api/ai-characters/")
    request = APIRequestFactory().get("/")
    expected = [Character.objects.get(pk=pk) for pk in (rich.pk, keyless.pk)]
    rendered = [drf_json(instance, request) for instance in expected]
    assert response.content == b"[" + b",".join(rendered) + b"]"
    assert [item["has_llm_api_key"] for item in response.json()] == [True, False]


def test_reading_never_decrypts_the_key(user, make_rich):
    make_rich(user)
    character = characters_for_reading().without_api_key().get()
    assert "llm_api_key" not in character.__dict__
    with CaptureQueriesContext(connection) as captured:
        assert character.has_llm_api_key is True
    assert len(captured) == 0


@pytest.mark.parametrize("count", [1, 12])
def test_list_queries_do_not_grow_with_characters(auth_client, user, make_rich, count):
    characters = [make_rich(user) for _ in range(count)]
    for source, target in itertools.pairwise(characters):
        HandoffTarget.objects.create(source=source, target=target)
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.get("/api/ai-characters/")
    assert len(response.json()) == count
    # Ids and revisions (joined with the active owner); then, none being in the read cache yet,
    # the characters, their handoff targets, their documents.
    assert select_count(captured) == 4
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get("/api/ai-characters/").content == response.content
    assert select_count(captured) == 1  # all cached: ids and revisions only


def test_paged_list_reads_relations_of_its_page_only(auth_client, user, make_rich):
    characters = [make_rich(user) for _ in range(3)]
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.get("/api/ai-characters/?limit=2&offset=1")
    assert [item["slug"] for item in response.json()] == [c.slug for c in characters[1::-1]]
    assert all(item["documents"] for item in response.json())
    # Ids and revisions with the total for X-Total-Count (one query), then the page's
    # characters, handoff targets and documents.
    assert select_count(captured) == 4


def test_retrieve_runs_four_selects_then_one(auth_client, user, make_rich):
    character = make_rich(user, targets=[make_rich(user)])
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get(f"/api/ai-characters/{character.slug}/").status_code == 200
    # Id and revision; not cached yet: the character, its handoff targets, its documents.
    assert select_count(captured) == 4
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get(f"/api/ai-characters/{character.slug}/").status_code == 200
    assert select_count(captured) == 1


@pytest.mark.parametrize(
    "path", ["/api/ai-characters/", "/api/ai-characters/?limit=5&offset=10", "{slug}", "nope"]
)
@pytest.mark.parametrize("with_characters", [True, False])
def test_reads_still_reject_a_deactivated_user(auth_client, user, make_rich, path, with_characters):
    slug = make_rich(user).slug if with_characters else "support-bot"
    if not path.startswith("/"):
        path = f"/api/ai-characters/{path.format(slug=slug)}/"
    user.is_active = False
    user.save()
    for method in (auth_client.get, auth_client.head):
        response = method(path)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert auth_client.get(path).json()["code"] == "user_inactive"


def test_reads_reject_the_token_of_a_deleted_user(auth_client, user, make_rich):
    slug = make_rich(user).slug
    user.delete()
    for path in ("/api/ai-characters/", f"/api/ai-characters/{slug}/"):
        response = auth_client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "user_not_found"


def test_an_active_user_with_no_characters_gets_an_empty_list(auth_client):
    response = auth_client.get("/api/ai-characters/")
    assert response.status_code == 200
    assert response.json() == []
    assert auth_client.get("/api/ai-characters/missing/").status_code == 404


def test_fast_paths_still_hide_other_owners_characters(other_client, user, make_rich):
    character = make_rich(user)
    assert other_client.get(f"/api/ai-characters/{character.slug}/").status_code == 404
    assert other_client.get("/api/ai-characters/").json() == []


def test_updates_still_see_and_keep_the_key(auth_client, user, make_rich):
    character = make_rich(user)
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", {"greeting": "Hello"})
    assert response.json()["has_llm_api_key"] is True
    character.refresh_from_db()
    assert character.llm_api_key == "sk-test-0123456789"


@pytest.mark.django_db
def test_each_database_runs_as_configured(user):
    """SQLite in WAL mode (readers beside the writer); PostgreSQL binding parameters itself and
    preparing a statement a connection runs repeatedly (no planning on every request)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            return
        select = f"SELECT email FROM {user._meta.db_table} WHERE id = %s"
        for _ in range(6):
            cursor.execute(select, [user.pk])
            assert cursor.fetchone()[0] == user.email
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s",
            [select.replace("%s", "$1")],
        )
        assert cursor.fetchone()[0] == 1


def write_statements(captured):
    """The statements run, without the test transaction's savepoints."""
    control = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [q["sql"] for q in captured if not q["sql"].lstrip().upper().startswith(control)]


@pytest.mark.parametrize("targets", [0, 2])
def test_a_one_field_patch_reads_each_thing_once(auth_client, user, make_rich, targets):
    """Issue 31: the caller with its membership, the character, its handoff links and its
    documents, each read once and before the write; then the UPDATE (checked against the
    revision read), the event (its INSERT looks for a webhook endpoint wanting it: issue 32)
    and the version. Nothing is read again to answer."""
    character = make_rich(user, targets=[make_rich(user) for _ in range(targets)])
    url = f"/api/ai-characters/{character.slug}/"
    with CaptureQueriesContext(connection) as captured:
        response = auth_client.patch(url, {"greeting": "Hello again"}, format="json")
    assert response.status_code == 200
    statements = write_statements(captured)
    assert len(statements) <= 5, statements
    assert sum(sql.lstrip().upper().startswith("UPDATE") for sql in statements) == 1
    # The answer is what a read shows afterwards, ETag included.
    after = auth_client.get(url)
    assert (response.content, response["ETag"]) == (after.content, after["ETag"])
