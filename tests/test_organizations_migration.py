"""The migration into organizations, over a database filled by the schema before them.

Every user gets a personal organization (owner, their default); their characters (files and
secrets), documents (files and chunks), sessions, form responses and API keys move into it,
and each is still reachable by its owner through the API, and by no one else.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import keys
from accounts.models import Membership, User
from characters.models import Character
from oshara.storage import private_storage
from tests.helpers import PASSWORD, client_for, png_upload

BEFORE = [
    ("accounts", "0002_api_keys"),
    ("characters", "0012_character_publishing"),
    ("calls", "0005_session_version"),
]
SECRET = "sk-old-secret-value-0123456789"
DOCUMENT_TEXT = b"Opening hours: nine to five."


def fill_previous_schema(apps):
    """What a database held before organizations: two users, the first with everything."""
    OldUser = apps.get_model("accounts", "User")
    owner = OldUser.objects.create(email="old@example.com", password=make_password(PASSWORD))
    OldUser.objects.create(email="stranger@example.com", password=make_password(PASSWORD))
    image_name = default_storage.save("characters/images/old.png", png_upload())
    character = apps.get_model("characters", "Character").objects.create(
        owner=owner,
        slug="old-bot",
        name="Old Bot",
        image=image_name,
        llm_api_key=SECRET,
        allowed_origins=["https://old.example.com"],
        widget_appearance={
            "forms": [
                {
                    "id": "contact",
                    "title": "Contact",
                    "submit_url": None,
                    "fields": [{"name": "email", "label": "E-mail", "type": "email"}],
                }
            ]
        },
    )
    file_name = private_storage().save(
        f"documents/{uuid.uuid4().hex}/hours.txt", ContentFile(DOCUMENT_TEXT)
    )
    document = apps.get_model("knowledge", "Document").objects.create(
        character=character, file=file_name, file_type="txt", status="PROCESSED", chunk_count=1
    )
    apps.get_model("knowledge", "DocumentChunk").objects.create(
        document=document, index=0, text=DOCUMENT_TEXT.decode(), token_count=6
    )
    now = timezone.now()
    session = apps.get_model("calls", "CallSession").objects.create(
        id="sess_" + "a" * 32,
        character=character,
        character_slug="old-bot",
        owner=owner,
        room_name="old-bot-room",
        participant_identity="visitor-1",
        started_at=now,
        expires_at=now + timedelta(hours=1),
        turn_count=4,
    )
    apps.get_model("calls", "FormResponse").objects.create(
        character=character,
        session=session,
        session_key=session.id,
        form_id="contact",
        values={"email": "visitor@example.com"},
    )
    full_key = keys.generate()
    apps.get_model("accounts", "ApiKey").objects.create(
        user=owner,
        name="backend",
        prefix=keys.lookup_prefix(full_key),
        hashed_key=keys.digest(full_key),
        key_preview=keys.preview(full_key),
    )
    return {"image": image_name, "document": file_name, "key": full_key, "session": session.id}


@pytest.fixture
def migrated_from_previous_schema(db, django_db_blocker):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    # Knowledge as it is now: its documents never depended on organizations.
    before = [*BEFORE, *(leaf for leaf in leaves if leaf[0] == "knowledge")]
    executor.migrate(before)
    try:
        filled = fill_previous_schema(executor.loader.project_state(before).apps)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(leaves)
    return filled


@pytest.mark.django_db(transaction=True)
def test_every_row_and_file_stays_reachable_by_its_owner(migrated_from_previous_schema):
    filled = migrated_from_previous_schema
    owner = User.objects.get(email="old@example.com")
    organization = owner.default_organization
    assert organization.is_personal
    assert Membership.objects.get(user=owner).role == "owner"
    character = Character.objects.get(slug="old-bot")
    assert character.organization == organization and character.owner == owner
    assert character.llm_api_key == SECRET  # still decrypts
    client = client_for(owner)

    body = client.get("/api/ai-characters/old-bot/").json()
    assert body["has_llm_api_key"] is True and SECRET not in str(body)
    assert body["image"].endswith(filled["image"])
    assert default_storage.exists(filled["image"])
    assert [item["slug"] for item in client.get("/api/ai-characters/").json()] == ["old-bot"]

    (document,) = client.get("/api/knowledge-base/old-bot/documents/").json()
    download = client.get(f"/api/knowledge-base/old-bot/documents/{document['id']}/file/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == DOCUMENT_TEXT
    assert document["chunk_count"] == 1

    usage = client.get("/api/billing/usage/").json()["data"]
    assert usage["total_sessions"] == 1 and usage["total_turn_count"] == 4
    (summary,) = usage["sessions"]["data"]
    assert summary["tenant_id"] == organization.slug
    assert client.get(f"/api/billing/sessions/{filled['session']}/").status_code == 200

    (response,) = client.get("/api/agents/old-bot/form-responses/").json()
    assert response["values"] == {"email": "visitor@example.com"}

    (api_key,) = client.get("/api/auth/api-keys/").json()
    assert api_key["role"] == "owner"
    by_key = APIClient().get("/api/ai-characters/old-bot/", HTTP_X_API_KEY=filled["key"])
    assert by_key.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_no_one_else_reaches_them(migrated_from_previous_schema):
    stranger = User.objects.get(email="stranger@example.com")
    assert stranger.default_organization.is_personal
    assert (
        stranger.default_organization
        != User.objects.get(email="old@example.com").default_organization
    )
    client = client_for(stranger)
    assert client.get("/api/ai-characters/old-bot/").status_code == 404
    assert client.get("/api/ai-characters/").json() == []
    assert client.get("/api/knowledge-base/old-bot/documents/").status_code == 404
    assert client.get("/api/billing/usage/").json()["data"]["total_sessions"] == 0
    assert client.get("/api/agents/old-bot/form-responses/").status_code == 404
    assert client.get("/api/auth/api-keys/").json() == []
