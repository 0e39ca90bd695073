"""POST /api/ai-characters/{slug}/duplicate/: a new character made of a version of another,
with its own files, its secrets encrypted anew, and its documents searchable at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.organizations import services as organizations
from accounts.organizations.models import Membership
from characters.models import Character, CharacterVersion
from events.models import Event
from knowledge.models import Document, DocumentChunk
from tests.helpers import (
    client_for,
    full_character,
    image_file,
    png_upload,
    raw_column,
    record,
    run_concurrently,
    send_files,
    stored_files,
    upload,
    wav_file,
)
from tests.knowledge_base import REFUND_POLICY, knowledge_base_files

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


def duplicate(client, source="full-bot", **body):
    return client.post(f"{URL}{source}/duplicate/", body, format="json")


def stored_bytes(fieldfile):
    with fieldfile.open("rb") as handle:
        return handle.read()


@pytest.fixture
def source(auth_client, calls_settings):
    slug = full_character(auth_client)
    files = {"image": image_file(name="face.png"), "voice.audio_file": wav_file()}
    assert send_files(auth_client, slug, **files).status_code == 200
    return Character.objects.get(slug=slug)


@pytest.fixture
def processed(auth_client, source, django_capture_on_commit_callbacks):
    """The source's knowledge base, every document processed (immediate tasks on commit)."""
    for file in knowledge_base_files():
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(
                f"/api/knowledge-base/{source.slug}/documents/", {"file": file}, format="multipart"
            )
        assert response.status_code == 201, response.content
    assert set(Document.objects.values_list("status", flat=True)) == {"PROCESSED"}
    return source


def test_the_copy_is_the_newest_version_under_its_own_slug(auth_client, source, user):
    original = auth_client.get(f"{URL}full-bot/").json()
    response = duplicate(auth_client, slug="full-copy")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["ETag"]
    assert auth_client.get(f"{URL}full-copy/").json() == body
    different = {
        "slug",
        "image",
        "voice",
        "created_at",
        "updated_at",
        "version",
        "published_version",
    }
    assert {k: v for k, v in body.items() if k not in different} == {
        k: v for k, v in original.items() if k not in different
    }
    assert (body["slug"], body["version"], body["published_version"]) == ("full-copy", 1, 1)
    assert body["handoff_targets"] == [{"slug": "sales-bot", "name": "Sales Bot"}]
    assert body["voice"]["voice_url"] == original["voice"]["voice_url"]
    copy = Character.objects.get(slug="full-copy")
    assert (copy.owner_id, copy.organization_id) == (user.pk, source.organization_id)


def test_files_are_copied_not_shared(auth_client, source, django_capture_on_commit_callbacks):
    assert duplicate(auth_client, slug="full-copy").status_code == 201
    copy = Character.objects.get(slug="full-copy")
    for name in ("image", "voice_audio_file"):
        theirs, mine = getattr(source, name), getattr(copy, name)
        assert mine.name and mine.name != theirs.name
        assert stored_bytes(mine) == stored_bytes(theirs)
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"{URL}full-bot/").status_code == 204
    assert stored_bytes(copy.image) and stored_bytes(copy.voice_audio_file)


def test_secrets_are_encrypted_anew(auth_client, source):
    assert duplicate(auth_client, slug="full-copy").status_code == 201
    copy = Character.objects.get(slug="full-copy")
    for column in ("llm_api_key", "tools", "mcp_servers"):
        assert raw_column(copy, column) != raw_column(source, column)
        assert getattr(copy, column) == getattr(source, column)
    assert copy.llm_api_key  # the plaintext, decrypted from the copy's own ciphertext
    [version] = CharacterVersion.objects.filter(character=copy)
    assert version.secrets["llm_api_key"] == source.llm_api_key


def test_a_given_version_with_its_handoff_targets(auth_client, source):
    first = auth_client.get(f"{URL}full-bot/").json()
    auth_client.patch(
        f"{URL}full-bot/", {"system_prompt": "Newer.", "handoff_targets": []}, format="json"
    )
    response = duplicate(auth_client, **{"slug": "old-copy", "name": "Old", "version": 2})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["system_prompt"]) == ("Old", first["system_prompt"])
    assert body["handoff_targets"] == [{"slug": "sales-bot", "name": "Sales Bot"}]
    newest = duplicate(auth_client, slug="new-copy").json()
    assert (newest["system_prompt"], newest["handoff_targets"]) == ("Newer.", [])


def test_an_unknown_or_pruned_version_is_a_400_naming_it(auth_client, settings, source):
    assert duplicate(auth_client, source="nope", slug="x-copy").status_code == 404
    response = duplicate(auth_client, **{"slug": "x-copy", "version": 99})
    assert response.status_code == 400
    assert response.json() == {"version": ["full-bot has no version 99."]}
    settings.VERSION_RETENTION = 1
    auth_client.patch(f"{URL}full-bot/", {"publishing": "manual"}, format="json")
    for n in range(2):
        auth_client.patch(f"{URL}full-bot/", {"greeting": f"Draft {n}"}, format="json")
    assert not CharacterVersion.objects.filter(character=source, number=3).exists()  # pruned
    response = duplicate(auth_client, **{"slug": "x-copy", "version": 3})
    assert response.status_code == 400 and set(response.json()) == {"version"}
    assert not Character.objects.filter(slug="x-copy").exists()


@pytest.mark.parametrize("slug", ["sales-bot", "Not A Slug", "x" * 65])
def test_a_bad_or_taken_slug_is_the_creates_400(auth_client, source, slug):
    created = auth_client.post(URL, {"slug": slug, "name": "N"}, format="json")
    response = duplicate(auth_client, **{"slug": slug})
    assert response.status_code == created.status_code == 400
    assert response.json() == {"slug": created.json()["slug"]}


def test_a_missing_slug_or_an_unknown_key_is_a_400(auth_client, source):
    response = duplicate(auth_client)
    assert response.status_code == 400 and set(response.json()) == {"slug"}
    response = duplicate(auth_client, **{"slug": "ok-copy", "owner": 3})
    assert response.status_code == 400 and response.json() == {"owner": ["Unknown field."]}
    assert Character.objects.count() == 2


def test_another_organizations_character_is_a_404(other_client, source):
    assert duplicate(other_client, slug="stolen").status_code == 404
    assert not Character.objects.filter(slug="stolen").exists()


def test_the_copy_goes_to_the_acting_organization_and_takes_an_editor(make_user, auth_client, user):
    founder = make_user("founder@example.com")
    acme = organizations.create_organization("Acme", founder, slug="acme")
    headers = {"HTTP_X_ORGANIZATION": "acme"}
    made = client_for(founder).post(
        URL, {"slug": "acme-bot", "name": "A"}, format="json", **headers
    )
    assert made.status_code == 201
    membership = Membership.objects.create(organization=acme, user=user, role="viewer")
    body = {"slug": "acme-copy"}
    refused = auth_client.post(f"{URL}acme-bot/duplicate/", body, format="json", **headers)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("Your role (viewer) in this organization cannot")
    membership.role = "editor"
    membership.save()
    response = auth_client.post(f"{URL}acme-bot/duplicate/", body, format="json", **headers)
    assert response.status_code == 201, response.content
    copy = Character.objects.get(slug="acme-copy")
    assert (copy.organization_id, copy.owner_id) == (acme.pk, user.pk)
    # Not in the caller's own default organization: it does not see the source there.
    assert duplicate(auth_client, source="acme-bot", slug="mine").status_code == 404


def test_the_copys_version_1_says_duplicate_who_and_why(auth_client, source, user):
    response = auth_client.post(
        f"{URL}full-bot/duplicate/",
        {"slug": "full-copy"},
        format="json",
        HTTP_X_CHANGE_NOTE="A variant for the shop",
    )
    assert response.status_code == 201
    [version] = auth_client.get(f"{URL}full-copy/versions/").json()
    assert (version["version"], version["source"], version["note"]) == (
        1,
        "duplicate",
        "A variant for the shop",
    )
    assert version["author"] == {"type": "user", "id": user.pk, "label": user.email}
    assert "system_prompt" in version["changed"]


def test_a_retry_with_its_idempotency_key_copies_once(auth_client, source):
    def send(body, key="dup-1"):
        return auth_client.post(
            f"{URL}full-bot/duplicate/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
        )

    first, again = send({"slug": "once"}), send({"slug": "once"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Character.objects.filter(slug="once").count() == 1
    assert send({"slug": "other"}).status_code == 422
    # The same key and body sent to create is another request.
    assert (
        auth_client.post(
            URL, {"slug": "once"}, format="json", HTTP_IDEMPOTENCY_KEY="dup-1"
        ).status_code
        == 422
    )


def test_documents_are_copied_with_their_chunks_and_searchable_at_once(auth_client, processed):
    # The test's transaction never commits: no processing task can run for the copy, so what
    # it finds is what was copied.
    response = duplicate(auth_client, slug="full-copy")
    assert response.status_code == 201, response.content
    copy = Character.objects.get(slug="full-copy")
    documents = response.json()["documents"]
    assert [d["name"] for d in documents] == [d.name for d in processed.documents.all()]
    assert {d["status"] for d in documents} == {"PROCESSED"}
    for theirs, mine in zip(processed.documents.all(), copy.documents.all(), strict=True):
        assert mine.file.name != theirs.file.name
        assert stored_bytes(mine.file) == stored_bytes(theirs.file)
        assert mine.chunk_count == theirs.chunk_count
        columns = ("index", "text", "page", "embedding", "embedding_model")
        assert list(mine.chunks.values_list(*columns)) == list(theirs.chunks.values_list(*columns))
    assert DocumentChunk.objects.filter(document__character=copy).count() > 0
    passages = auth_client.get(
        "/api/knowledge-base/query/",
        {"slug": "full-copy", "q": "how do I get my money back", "top_k": 1},
    )
    assert passages.status_code == 200, passages.content
    assert passages.json()[0]["text"] == REFUND_POLICY


def test_a_document_being_processed_is_processed_again_for_the_copy(
    auth_client, source, django_capture_on_commit_callbacks
):
    # Uploaded, its processing not yet run (the upload's transaction never commits here).
    response = auth_client.post(
        f"/api/knowledge-base/{source.slug}/documents/",
        {"file": upload("notes.txt", REFUND_POLICY)},
        format="multipart",
    )
    assert response.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert duplicate(auth_client, slug="full-copy").status_code == 201
    document = Document.objects.get(character__slug="full-copy")
    assert (document.status, document.chunks.count() > 0) == ("PROCESSED", True)


def test_the_chunks_are_copied_in_one_statement(auth_client, processed):
    assert DocumentChunk.objects.count() > Document.objects.count()  # documents of many chunks
    with CaptureQueriesContext(connection) as queries:
        assert duplicate(auth_client, slug="full-copy").status_code == 201
    table = DocumentChunk._meta.db_table
    inserts = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(inserts) == 1


def test_the_admins_duplicate_takes_the_same_path(admin_client, processed):
    response = admin_client.post(
        "/admin/characters/character/",
        {"action": "duplicate_selected", "_selected_action": [processed.pk]},
    )
    assert response.status_code == 302
    copy = Character.objects.get(slug="full-bot-copy")
    assert copy.llm_api_key is None  # "without their key"
    assert copy.documents.count() == processed.documents.count()
    assert DocumentChunk.objects.filter(document__character=copy).count() == (
        DocumentChunk.objects.filter(document__character=processed).count()
    )
    [event] = Event.objects.filter(subject_type="character", subject_id=str(copy.pk))
    assert (event.type, event.actor["type"]) == ("character.duplicated", "admin")
    assert event.data["duplicated_from"] == {"slug": "full-bot", "version": processed.version}


def test_an_api_key_duplicates_and_is_the_author(auth_client, source, user):
    created = auth_client.post("/api/auth/api-keys/", {"name": "CI deploys"}, format="json")
    assert created.status_code == 201, created.content
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=created.json()["key"])
    response = client.post(f"{URL}full-bot/duplicate/", {"slug": "keyed-copy"}, format="json")
    assert response.status_code == 201, response.content
    copy = Character.objects.get(slug="keyed-copy")
    assert (copy.owner_id, copy.organization_id) == (user.pk, source.organization_id)
    [version] = client.get(f"{URL}keyed-copy/versions/").json()
    assert version["author"] == {
        "type": "api_key",
        "id": created.json()["id"],
        "label": "CI deploys",
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_to_one_slug_make_one_and_leave_no_stray_file(user, settings):
    owner = client_for(user)
    for slug in ("first", "second"):
        body = {"slug": slug, "name": "S", "image": png_upload()}
        assert owner.post(URL, body, format="multipart").status_code == 201
    before = stored_files(settings.MEDIA_ROOT)
    clients = [(client_for(user), ("first", "second")[n % 2]) for n in range(6)]
    responses = run_concurrently(
        [
            lambda c=c, s=s: c.post(f"{URL}{s}/duplicate/", {"slug": "contested"}, format="json")
            for c, s in clients
        ]
    )
    assert record("6 duplicates to one slug", responses) == {201: 1, 400: 5}
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {"slug": ["character with this slug already exists."]}
    copy = Character.objects.get(slug="contested")
    assert stored_files(settings.MEDIA_ROOT) == sorted([*before, copy.image.name])
