"""Every change records one immutable version: create, PUT, PATCH (JSON or multipart), the
admin's save and duplicate, a restore; a write that changes nothing records none."""

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from characters import services
from characters.models import Character, CharacterVersion
from events.models import Event
from tests.helpers import (
    CALL_LLM_KEY,
    CALL_MCP_SECRET,
    CALL_TOOL_SECRET,
    change_url,
    client_for,
    form_payload,
    full_character,
    handoff_payload,
    png_upload,
    stored_files,
    wav_upload,
)

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


def detail(slug):
    return f"{URL}{slug}/"


def versions_of(slug):
    return list(CharacterVersion.objects.filter(character__slug=slug).order_by("number"))


def raw_version_columns(version):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('snapshot')}, {quote('secrets')} "
            f"FROM {quote(CharacterVersion._meta.db_table)} WHERE {quote('id')} = %s",
            [version.pk],
        )
        return [str(value) for value in cursor.fetchone()]


def test_create_records_version_1_with_its_author_and_note(auth_client, user):
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot"}, headers={"X-Change-Note": "First draft"}
    )
    assert response.status_code == 201
    assert response.json()["version"] == 1
    [version] = versions_of("bot")
    assert (version.number, version.source, version.note) == (1, "api", "First draft")
    assert (version.author_type, version.author_id, version.author_label) == (
        "user",
        user.pk,
        user.email,
    )
    assert "name" in version.changed and version.snapshot["name"] == "Bot"


def test_each_patch_and_put_records_the_next_version_with_the_changed_paths(auth_client):
    auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    patched = auth_client.patch(
        detail("bot"), {"widget_appearance": {"theme": {"primary_color": "#112233"}}}
    )
    assert patched.json()["version"] == 2
    put = auth_client.put(detail("bot"), {"slug": "bot", "name": "Renamed"})
    assert put.json()["version"] == 3
    multipart = auth_client.patch(detail("bot"), {"greeting": "Hi"}, format="multipart")
    assert multipart.json()["version"] == 4
    numbers = [version.number for version in versions_of("bot")]
    assert numbers == [1, 2, 3, 4]
    changed = [version.changed for version in versions_of("bot")[1:]]
    assert changed == [
        ["widget_appearance.theme.primary_color"],
        ["name", "widget_appearance.theme.primary_color"],
        ["greeting"],
    ]
    assert Character.objects.get(slug="bot").version == 4


def test_a_write_that_changes_nothing_records_nothing_and_keeps_the_etag(auth_client):
    created = auth_client.post(URL, {"slug": "bot", "name": "Bot", "greeting": "Hi"})
    same = auth_client.patch(detail("bot"), {"name": "Bot", "greeting": "Hi"})
    assert same.status_code == 200
    assert same.json()["version"] == 1
    assert same["ETag"] == created["ETag"]
    assert (
        auth_client.put(detail("bot"), {"slug": "bot", "name": "Bot", "greeting": "Hi"})["ETag"]
        == created["ETag"]
    )
    assert len(versions_of("bot")) == 1
    changed = auth_client.patch(detail("bot"), {"greeting": "Hello"})
    assert changed["ETag"] != created["ETag"]
    assert changed.json()["version"] == 2


def test_the_etag_follows_the_version(auth_client):
    auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    first = auth_client.get(detail("bot"))
    assert auth_client.patch(detail("bot"), {"name": "Two"})["ETag"] != first["ETag"]
    again = auth_client.get(detail("bot"))
    assert again.json()["version"] == 2
    assert auth_client.get(detail("bot"), HTTP_IF_NONE_MATCH=again["ETag"]).status_code == 304


@pytest.mark.parametrize(
    ("note", "error"),
    [
        ("x" * 501, "Ensure this header has no more than 500 characters."),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
def test_a_bad_change_note_is_a_400_naming_the_header_and_saves_nothing(auth_client, note, error):
    auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    response = auth_client.patch(detail("bot"), {"name": "New"}, headers={"X-Change-Note": note})
    assert response.status_code == 400
    assert response.json() == {"X-Change-Note": [error]}
    assert Character.objects.get(slug="bot").name == "Bot"
    assert len(versions_of("bot")) == 1
    created = auth_client.post(URL, {"slug": "other", "name": "O"}, headers={"X-Change-Note": note})
    assert created.status_code == 400
    assert not Character.objects.filter(slug="other").exists()


def test_a_note_of_500_characters_in_utf8_is_kept_whole(auth_client):
    note = "é" * 500
    response = auth_client.post(
        URL, {"slug": "bot", "name": "Bot"}, HTTP_X_CHANGE_NOTE=note.encode().decode("latin-1")
    )
    assert response.status_code == 201
    assert versions_of("bot")[0].note == note


def test_an_api_key_is_the_author_of_its_changes(auth_client):
    key = auth_client.post("/api/auth/api-keys/", {"name": "CI deploys"}).json()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key["key"])
    assert client.post(URL, {"slug": "bot", "name": "Bot"}).status_code == 201
    [version] = versions_of("bot")
    assert (version.author_type, version.author_id, version.author_label) == (
        "api_key",
        key["id"],
        "CI deploys",
    )


def test_the_snapshot_is_the_whole_configuration_secrets_encrypted(auth_client):
    slug = full_character(auth_client)
    auth_client.patch(detail(slug), {"session_overrides": ["language"]})
    version = versions_of(slug)[-1]
    snapshot = version.snapshot
    assert snapshot["handoff_targets"] == ["sales-bot"]
    assert snapshot["allowed_origins"] == ["https://shop.example.com"]
    assert snapshot["session_overrides"] == ["language"]
    assert snapshot["widget_appearance"]["forms"][0]["id"] == "lead-form"
    assert snapshot["voice"]["voice_url"] == "https://voices.example.com/v1.wav"
    assert version.secrets["llm_api_key"] == CALL_LLM_KEY
    assert version.secrets["tools"][0]["config"]["headers"]["Authorization"] == CALL_TOOL_SECRET
    assert version.secrets["mcp_servers"][0]["headers"]["Authorization"] == CALL_MCP_SECRET
    assert version.changed == ["session_overrides"]
    for column in raw_version_columns(version):
        for secret in (CALL_LLM_KEY, CALL_TOOL_SECRET, CALL_MCP_SECRET):
            assert secret not in column


def test_a_changed_key_is_a_changed_path_and_never_plaintext_in_the_table(auth_client):
    auth_client.post(URL, {"slug": "bot", "name": "Bot", "llm_api_key": "sk-old-0123456789"})
    auth_client.patch(detail("bot"), {"llm_api_key": "sk-new-0123456789"})
    version = versions_of("bot")[-1]
    assert version.changed == ["llm_api_key"]
    for column in raw_version_columns(version):
        assert "sk-new" not in column and "sk-old" not in column


def test_uploads_are_named_in_the_version(auth_client, settings):
    auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    response = auth_client.patch(
        detail("bot"),
        {"image": png_upload(), "voice.audio_file": wav_upload()},
        format="multipart",
    )
    assert response.status_code == 200
    character = Character.objects.get(slug="bot")
    version = versions_of("bot")[-1]
    assert version.snapshot["image"] == version.image == character.image.name
    assert version.snapshot["voice"]["audio_file"] == character.voice_audio_file.name
    assert sorted(version.changed) == ["image", "voice.audio_file"]
    assert sorted(stored_files(settings.MEDIA_ROOT)) == sorted(
        [character.image.name, character.voice_audio_file.name]
    )


def test_the_admin_save_records_one_version_with_its_handoffs(
    admin_client, admin_user, user, make_character
):
    character = client_for(user).post(URL, {"slug": "bot", "name": "Bot"})
    assert character.status_code == 201
    character = Character.objects.get(slug="bot")
    target = make_character(user, slug="target")
    payload = handoff_payload(admin_client, character, [target])
    payload["name"] = "Renamed in the admin"
    assert admin_client.post(change_url(character), payload).status_code == 302
    version = versions_of("bot")[-1]
    assert version.number == 2
    assert version.changed == ["name", "handoff_targets"]
    assert (version.source, version.author_type, version.author_id) == (
        "admin",
        "admin",
        admin_user.pk,
    )
    unchanged = form_payload(admin_client.get(change_url(character)))
    assert admin_client.post(change_url(character), unchanged).status_code == 302
    assert len(versions_of("bot")) == 2


def test_the_admins_duplicate_starts_at_version_1(admin_client, user):
    client_for(user).post(URL, {"slug": "bot", "name": "Bot"})
    character = Character.objects.get(slug="bot")
    response = admin_client.post(
        reverse("admin:characters_character_changelist"),
        {"action": "duplicate_selected", "_selected_action": [character.pk]},
    )
    assert response.status_code == 302
    [version] = versions_of("bot-copy")
    assert (version.number, version.source, version.author_type) == (1, "duplicate", "admin")


def test_versions_are_unique_per_character_and_number(auth_client):
    from django.db import IntegrityError, transaction

    auth_client.post(URL, {"slug": "bot", "name": "Bot"})
    version = versions_of("bot")[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        CharacterVersion.objects.create(
            character=version.character,
            number=1,
            snapshot={},
            author_type="system",
            source="api",
        )


def test_key_rotation_re_encrypts_the_versions_secrets(auth_client, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FERNET_KEYS = [old]
    auth_client.post(URL, {"slug": "bot", "name": "Bot", "llm_api_key": "sk-rotated-0123456789"})
    settings.FERNET_KEYS = [new, old]
    out = StringIO()
    call_command("rotate_fernet_keys", stdout=out)
    assert "characters.CharacterVersion.secrets: 1 of 1 stored value(s) re-encrypted." in (
        out.getvalue()
    )
    settings.FERNET_KEYS = [new]
    [version] = versions_of("bot")
    _, raw_secrets = raw_version_columns(version)
    assert "sk-rotated" in Fernet(new).decrypt(raw_secrets.encode()).decode()
    assert version.secrets["llm_api_key"] == "sk-rotated-0123456789"


def test_a_dump_of_the_versions_holds_no_secret(auth_client):
    slug = full_character(auth_client)
    out = StringIO()
    call_command("dumpdata", "characters.characterversion", stdout=out)
    dumped = out.getvalue()
    assert json.loads(dumped)[0]["fields"]["secrets"] == ""
    for secret in (CALL_LLM_KEY, CALL_TOOL_SECRET, CALL_MCP_SECRET):
        assert secret not in dumped
    assert versions_of(slug)[0].secrets["llm_api_key"] == CALL_LLM_KEY


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_characters_a_live_version_1(django_user_model, auth_client):
    before = [("characters", "0010_character_session_overrides")]
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes("characters")
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        owner = django_user_model.objects.get(email="owner@example.com")
        old_character = old_apps.get_model("characters", "Character")
        target = old_character.objects.create(owner_id=owner.pk, slug="target", name="T")
        old = old_character.objects.create(
            owner_id=owner.pk, slug="old-bot", name="Old", llm_api_key="sk-old-0123456789"
        )
        old_apps.get_model("characters", "HandoffTarget").objects.create(
            source=old, target=target, position=0
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaf)
    character = Character.objects.get(slug="old-bot")
    assert (character.version, character.published_version, character.publishing) == (
        1,
        1,
        "auto",
    )
    [version] = versions_of("old-bot")
    assert (version.source, version.author_type) == ("migration", "system")
    assert version.published_at is not None
    assert version.snapshot["handoff_targets"] == ["target"]
    assert version.secrets["llm_api_key"] == "sk-old-0123456789"
    listed = auth_client.get(f"{URL}old-bot/versions/").json()
    assert [item["version"] for item in listed] == [1]


def test_an_optimistic_write_of_a_row_changed_since_it_was_read_writes_nothing(auth_client):
    """A JSON PATCH validates with no lock and saves only if the row still has the revision
    it was read with (characters/services.py): one read before another write committed is
    refused whole, and the API then runs the PATCH again under the lock."""
    from characters import services
    from characters.models import StaleWrite

    assert auth_client.post(URL, {"slug": "bot", "name": "Bot"}).status_code == 201
    stale = Character.objects.get(slug="bot")
    services.character_update(Character.objects.get(slug="bot"), {"name": "First"})
    with pytest.raises(StaleWrite):
        services.character_update(stale, {"greeting": "Second"}, optimistic=True)
    stored = Character.objects.get(slug="bot")
    assert (stored.name, stored.greeting, stored.version) == ("First", "", 2)
    assert [version.number for version in versions_of("bot")] == [1, 2]
    # Read again, the same write goes through as the next version.
    services.character_update(stored, {"greeting": "Second"}, optimistic=True)
    assert [version.number for version in versions_of("bot")] == [1, 2, 3]


def test_multipart_admin_and_bulk_changes_each_give_one_version_and_one_event(
    auth_client, admin_client, user
):
    def updates():
        return Event.objects.filter(type="character.updated", subject_id=str(character.pk))

    assert auth_client.post(URL, {"slug": "bot", "name": "Bot"}).status_code == 201
    character = Character.objects.get(slug="bot")
    auth_client.patch(detail("bot"), {"greeting": "Hi"}, format="multipart")
    payload = form_payload(admin_client.get(change_url(character)))
    payload["name"] = "Renamed in the admin"
    assert admin_client.post(change_url(character), payload).status_code == 302
    services.update_characters(Character.objects.filter(pk=character.pk), greeting="Bulk")
    assert [version.number for version in versions_of("bot")] == [1, 2, 3, 4]
    assert sorted(event.data["version"] for event in updates()) == [2, 3, 4]
