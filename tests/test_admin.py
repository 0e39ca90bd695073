"""The operators' admin: as strict as the API, and it never shows a key."""

import io
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from characters.models import Character, HandoffTarget
from knowledge.models import Document
from tests.helpers import (
    PASSWORD,
    change_url,
    form_payload,
    handoff_payload,
    stored_files,
    wav_upload,
)
from tests.reference import SALES_AGENT

SECRET = "sk-admin-test-secret-4f1c9a"
KB_SECRET = "kb-admin-test-secret-77e0d2"
CHANGELIST = reverse("admin:characters_character_changelist")
ADD = reverse("admin:characters_character_add")


def png_upload(name="avatar.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def stored_ciphertext(character, column="llm_api_key"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM characters_character WHERE id = %s", [character.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def full_character(make_character, user):
    """A character with every field set, a handoff target and a document."""
    target = make_character(user, slug="support-bot", name="Support Bot")
    character = make_character(
        user,
        slug="sales-agent",
        name="Sales Assistant",
        character_type="SUPPORT_AGENT",
        image=png_upload(),
        system_prompt="You sell.",
        greeting="Hello!",
        voice_audio_file=wav_upload(),
        voice_url="https://voices.example.com/v1",
        language="pt-BR",
        background_audio="cafe",
        allowed_origins=["https://acme.com", "https://staging.acme.com"],
        widget_appearance={"name": "Acme", "theme": {"primary_color": "#FF6B35"}},
        stt_model="whisper-en-large",
        tts_model="chatterbox-en-v1",
        llm_model="gpt-4o",
        llm_api_key=SECRET,
        kb_query_url="https://kb.acme.com/search",
        kb_query_api_key=KB_SECRET,
        tools=[
            {"name": "search_docs", "kind": "kb", "config": {}},
            {"name": "show_offer", "kind": "client_event", "config": {"topic": "acme.offer"}},
        ],
    )
    HandoffTarget.objects.create(source=character, target=target, position=0)
    Document.objects.create(
        character=character,
        file=SimpleUploadedFile("faq.txt", b"Questions and answers"),
        file_type="txt",
        status="FAILED",
        error="Could not parse page 3",
    )
    return character


def add_form_payload(admin_client, owner, **fields):
    data = form_payload(admin_client.get(ADD))
    data.update(owner=str(owner.pk), **fields)
    return data


# --- users -----------------------------------------------------------------------------------


def test_user_changelist_search_and_filters(admin_client, make_user):
    make_user("alice@example.com")
    make_user("bob@example.com", is_staff=True)
    url = reverse("admin:accounts_user_changelist")

    found = admin_client.get(url, {"q": "alice"}).content.decode()
    assert "alice@example.com" in found
    assert "bob@example.com" not in found

    staff = admin_client.get(url, {"is_staff__exact": "1"}).content.decode()
    assert "bob@example.com" in staff
    assert "alice@example.com" not in staff

    inactive = admin_client.get(url, {"is_active__exact": "0"}).content.decode()
    assert "alice@example.com" not in inactive


def test_user_add_form_requires_matching_passwords(admin_client, django_user_model):
    url = reverse("admin:accounts_user_add")
    assert admin_client.get(url).status_code == 200
    body = {"email": "New.Operator@Example.com", "usable_password": "true"}

    mismatch = admin_client.post(
        url, {**body, "password1": "a-long-passphrase-1", "password2": "different-9"}
    )
    assert mismatch.status_code == 200
    assert "password2" in mismatch.context["adminform"].form.errors
    assert not django_user_model.objects.filter(email="new.operator@example.com").exists()

    created = admin_client.post(
        url, {**body, "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"}
    )
    assert created.status_code == 302
    user = django_user_model.objects.get(email="new.operator@example.com")
    assert user.check_password("a-long-passphrase-1")

    again = admin_client.post(
        url,
        {
            **body,
            "email": "NEW.operator@example.com",
            "password1": "another-passphrase-2",
            "password2": "another-passphrase-2",
        },
    )
    assert again.status_code == 200
    assert "email" in again.context["adminform"].form.errors
    assert django_user_model.objects.filter(email__iexact="new.operator@example.com").count() == 1


def test_staff_user_logs_into_the_admin_with_their_email(client, make_user):
    make_user("operator@example.com", is_staff=True)
    make_user("customer@example.com")
    login = reverse("admin:login")
    response = client.post(login, {"username": "Operator@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    client.logout()
    response = client.post(login, {"username": "customer@example.com", "password": PASSWORD})
    assert response.status_code == 200  # not staff: the login form again
    assert client.get(reverse("admin:index")).status_code == 302


def test_user_change_form_renders(admin_client, user):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200
    assert user.email in response.content.decode()


# --- change list -----------------------------------------------------------------------------


def test_changelist_and_change_form_render_a_full_character(admin_client, full_character):
    listing = admin_client.get(CHANGELIST)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "sales-agent" in html
    assert "owner@example.com" in html
    assert "Support agent" in html

    change = admin_client.get(change_url(full_character))
    assert change.status_code == 200
    html = change.content.decode()
    assert full_character.image.url in html  # the thumbnail preview
    assert "faq.txt" in html and "Could not parse page 3" in html  # documents inline
    assert "https://staging.acme.com" in html
    assert 'name="slug"' not in html  # read-only after creation
    assert "characters/admin/handoff_autocomplete.js" in html


def test_changelist_search(admin_client, make_character, user, other_user):
    make_character(user, slug="alpha-bot", name="Alpha")
    make_character(other_user, slug="beta-bot", name="Zeta Writer")

    def slugs(params):
        response = admin_client.get(CHANGELIST, params)
        return {c.slug for c in response.context["cl"].result_list}

    assert slugs({"q": "alpha"}) == {"alpha-bot"}
    assert slugs({"q": "Zeta"}) == {"beta-bot"}
    assert slugs({"q": "someone-else@"}) == {"beta-bot"}


def test_changelist_filters(admin_client, make_character, user, other_user):
    make_character(user, slug="host", character_type="PODCAST_HOST", language="fr")
    make_character(
        other_user, slug="teller", character_type="STORY_TELLER", background_audio="cafe"
    )

    def slugs(params):
        response = admin_client.get(CHANGELIST, params)
        assert response.status_code == 200
        return [c.slug for c in response.context["cl"].result_list]

    assert slugs({"character_type__exact": "PODCAST_HOST"}) == ["host"]
    assert slugs({"language": "fr"}) == ["host"]
    assert slugs({"background_audio__exact": "cafe"}) == ["teller"]
    assert slugs({"owner__id__exact": str(other_user.pk)}) == ["teller"]
    assert slugs({}) == ["teller", "host"]  # newest first


def test_changelist_query_count_does_not_grow(
    admin_client, make_character, make_user, full_character
):
    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(captured), len(response.context["cl"].result_list)

    queries_for_few, shown = count_queries()
    assert shown == 2
    for number in range(98):
        owner = make_user()
        character = make_character(
            owner, allowed_origins=["https://a.example"], llm_api_key=f"sk-{number}"
        )
        HandoffTarget.objects.create(source=character, target=full_character)
    queries_for_many, shown = count_queries()
    assert shown == 100
    assert queries_for_many == queries_for_few


# --- the key ---------------------------------------------------------------------------------


def test_key_never_appears_in_admin_html(admin_client, full_character):
    ciphertext = stored_ciphertext(full_character)
    assert ciphertext and SECRET not in ciphertext
    kb_ciphertext = stored_ciphertext(full_character, "kb_query_api_key")
    assert kb_ciphertext and KB_SECRET not in kb_ciphertext
    change = admin_client.get(change_url(full_character))
    admin_client.post(change_url(full_character), form_payload(change))  # a logged change
    pages = [
        CHANGELIST,
        change_url(full_character),
        reverse("admin:characters_character_history", args=[full_character.pk]),
        reverse("admin:characters_character_delete", args=[full_character.pk]),
        reverse("admin:index"),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SECRET not in html, url
        assert ciphertext not in html, url
        assert KB_SECRET not in html, url
        assert kb_ciphertext not in html, url
    assert LogEntry.objects.filter(object_id=str(full_character.pk)).exists()


def test_key_set_keep_and_clear_through_the_form(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    assert payload["llm_api_key"] == ""

    assert admin_client.post(url, {**payload, "llm_api_key": SECRET}).status_code == 302
    character.refresh_from_db()
    assert character.llm_api_key == SECRET
    assert SECRET not in stored_ciphertext(character)

    # An empty input keeps the key, while other fields change.
    assert admin_client.post(url, {**payload, "name": "Renamed"}).status_code == 302
    character.refresh_from_db()
    assert (character.name, character.llm_api_key) == ("Renamed", SECRET)

    both = admin_client.post(url, {**payload, "llm_api_key": "sk-x", "clear_llm_api_key": "on"})
    assert both.status_code == 200
    assert "clear_llm_api_key" in both.context["adminform"].form.errors
    character.refresh_from_db()
    assert character.llm_api_key == SECRET

    assert admin_client.post(url, {**payload, "clear_llm_api_key": "on"}).status_code == 302
    character.refresh_from_db()
    assert character.llm_api_key is None
    assert stored_ciphertext(character) is None


def test_typed_key_is_not_echoed_back_on_a_form_error(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(
        url, {**payload, "llm_api_key": SECRET, "allowed_origins": '["ftp://x"]'}
    )
    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    character.refresh_from_db()
    assert character.llm_api_key is None


# --- the API's validation --------------------------------------------------------------------


def api_error(auth_client, character, body):
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", body, format="json")
    assert response.status_code == 400
    return response.json()


@pytest.mark.parametrize(
    ("appearance", "path"),
    [
        ({"theme": {"primary_color": "orange"}}, ("theme", "primary_color")),
        ({"nmae": "typo"}, ("nmae",)),
    ],
)
def test_invalid_appearance_shows_the_apis_error_and_saves_nothing(
    admin_client, auth_client, character, appearance, path
):
    message = api_error(auth_client, character, {"widget_appearance": appearance})
    message = message["widget_appearance"]
    for key in path:
        message = message[key]
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(
        url, {**payload, "name": "Changed", "widget_appearance": json.dumps(appearance)}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["widget_appearance"]
    assert f"{'.'.join(path)}: {message[0]}" in errors
    character.refresh_from_db()
    assert (character.name, character.widget_appearance) == ("Support Bot", {})


@pytest.mark.parametrize(
    "origins", [["ftp://acme.com"], ["https://user:pw@acme.com"], ["https://acme.com/?q=1"]]
)
def test_invalid_origin_shows_the_apis_error_and_saves_nothing(
    admin_client, auth_client, character, origins
):
    message = api_error(auth_client, character, {"allowed_origins": origins})
    message = message["allowed_origins"]["0"][0]
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(
        url, {**payload, "name": "Changed", "allowed_origins": json.dumps(origins)}
    )
    assert response.status_code == 200
    assert f"Entry 0: {message}" in response.context["adminform"].form.errors["allowed_origins"]
    character.refresh_from_db()
    assert (character.name, character.allowed_origins) == ("Support Bot", [])


def test_origins_saved_in_the_admin_are_stored_as_origins_like_the_apis(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    origins = ["https://Acme.com/help", "http://[::1]:8080/", "https://acme.com"]
    response = admin_client.post(url, {**payload, "allowed_origins": json.dumps(origins)})
    assert response.status_code == 302
    character.refresh_from_db()
    assert character.allowed_origins == ["https://acme.com", "http://[::1]:8080"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allowed_origins", "{}"),
        ("allowed_origins", '"https://acme.com"'),
        ("allowed_origins", "not json"),
        ("widget_appearance", "[]"),
    ],
)
def test_json_fields_of_the_wrong_shape_are_refused(admin_client, character, field, value):
    url = change_url(character)
    response = admin_client.post(url, {**form_payload(admin_client.get(url)), field: value})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    character.refresh_from_db()
    assert character.allowed_origins == [] and character.widget_appearance == {}


def test_appearance_is_stored_as_the_api_stores_it(
    admin_client, auth_client, make_character, user, character
):
    appearance = {"name": "  Acme  ", "theme": {"primary_color": "#FF6B35"}}
    via_api = make_character(user, slug="via-api")
    response = auth_client.patch(
        f"/api/ai-characters/{via_api.slug}/", {"widget_appearance": appearance}, format="json"
    )
    assert response.status_code == 200
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    payload["widget_appearance"] = json.dumps(appearance)
    assert admin_client.post(url, payload).status_code == 302
    via_api.refresh_from_db()
    character.refresh_from_db()
    assert character.widget_appearance == via_api.widget_appearance == appearance


def test_origins_are_deduplicated_and_empty_input_means_blocked(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    origins = '["https://acme.com", "https://acme.com", "http://localhost:3000"]'
    assert admin_client.post(url, {**payload, "allowed_origins": origins}).status_code == 302
    character.refresh_from_db()
    assert character.allowed_origins == ["https://acme.com", "http://localhost:3000"]

    assert admin_client.post(url, {**payload, "allowed_origins": ""}).status_code == 302
    character.refresh_from_db()
    assert character.allowed_origins == []


def test_slug_cannot_be_changed(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    assert admin_client.post(url, {**payload, "slug": "renamed"}).status_code == 302
    character.refresh_from_db()
    assert character.slug == "support-bot"


# --- creating the reference's example --------------------------------------------------------


def test_operator_creates_the_reference_sales_agent_through_the_add_form(
    admin_client, auth_client, make_character, user
):
    support_bot = make_character(user, slug="support-bot", name="Support Bot")
    example = SALES_AGENT
    payload = add_form_payload(
        admin_client,
        user,
        slug=example["slug"],
        name=example["name"],
        system_prompt=example["system_prompt"],
        greeting=example["greeting"],
        language=example["language"],
        llm_model=example["llm_model"],
        background_audio=example["background_audio"],
        allowed_origins=json.dumps(example["allowed_origins"]),
        widget_appearance=json.dumps(example["widget_appearance"]),
        llm_api_key=SECRET,
        image=png_upload(),
    )
    payload.update(
        {
            "handoff_links-TOTAL_FORMS": "1",
            "handoff_links-0-target": str(support_bot.pk),
            "handoff_links-0-position": "",
        }
    )
    response = admin_client.post(ADD, payload)
    assert response.status_code == 302, response.context["adminform"].form.errors

    created = auth_client.get("/api/ai-characters/sales-agent/").json()
    for field, value in example.items():
        if field != "handoff_targets":
            assert created[field] == value, field
    assert created["handoff_targets"] == [{"slug": "support-bot", "name": "Support Bot"}]
    assert created["has_llm_api_key"] is True
    assert created["image"].startswith("http://testserver/")
    assert Character.objects.get(slug="sales-agent").owner == user


def test_add_form_refuses_a_taken_slug_and_a_bad_slug(admin_client, character, user):
    for slug in ("support-bot", "Not A Slug"):
        response = admin_client.post(ADD, add_form_payload(admin_client, user, slug=slug, name="X"))
        assert response.status_code == 200
        assert "slug" in response.context["adminform"].form.errors
    assert Character.objects.count() == 1


# --- handoff targets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "A character cannot hand off to itself."),
        ("duplicate", "This character is already in the list."),
        ("other owner", "Choose one of this character's owner's characters."),
    ],
)
def test_handoff_rules_match_the_api(
    admin_client, make_character, user, other_user, character, case, message
):
    mine = make_character(user, slug="mine")
    theirs = make_character(other_user, slug="theirs")
    targets = {"itself": [character], "duplicate": [mine, mine], "other owner": [theirs]}[case]
    response = admin_client.post(
        change_url(character), handoff_payload(admin_client, character, targets)
    )
    assert response.status_code == 200
    errors = [
        e
        for f in response.context["inline_admin_formsets"][0].formset.errors
        for e in f.get("target", [])
    ]
    assert message in errors
    assert not HandoffTarget.objects.filter(source=character).exists()


def test_handoff_targets_keep_their_order_and_blank_goes_last(
    admin_client, make_character, user, character
):
    first, second, third = (make_character(user, slug=s) for s in ("first", "second", "third"))
    payload = handoff_payload(admin_client, character, [first, second, third])
    payload["handoff_links-0-position"] = "5"
    payload["handoff_links-1-position"] = "1"
    assert admin_client.post(change_url(character), payload).status_code == 302
    assert [t.slug for t in character.ordered_handoff_targets] == ["second", "first", "third"]
    positions = HandoffTarget.objects.filter(source=character).values_list("position", flat=True)
    assert sorted(positions) == [0, 1, 2]

    # Editing nothing keeps the list as it is.
    url = change_url(character)
    assert admin_client.post(url, form_payload(admin_client.get(url))).status_code == 302
    assert [t.slug for t in character.ordered_handoff_targets] == ["second", "first", "third"]


def test_handoff_autocomplete_lists_only_the_owners_other_characters(
    admin_client, make_character, user, other_user, character
):
    make_character(user, slug="mine")
    make_character(other_user, slug="theirs")
    change = admin_client.get(change_url(character)).content.decode()
    assert f"?source={character.pk}" in change  # the widget says which character is edited
    url = reverse("admin:autocomplete")
    params = {"app_label": "characters", "model_name": "handofftarget", "field_name": "target"}

    def slugs(**extra):
        response = admin_client.get(url, {**params, **extra})
        assert response.status_code == 200
        return {item["text"] for item in response.json()["results"]}

    assert slugs(owner=user.pk, source=character.pk) == {"mine"}
    assert slugs(owner=user.pk) == {"mine", "support-bot"}
    assert slugs(owner=other_user.pk) == {"theirs"}
    assert slugs() == set()  # no owner chosen yet


def test_owner_cannot_change_while_the_old_owners_characters_hand_off_to_it(
    admin_client, make_character, user, other_user, character
):
    source = make_character(user, slug="router")
    HandoffTarget.objects.create(source=source, target=character)
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(url, {**payload, "owner": str(other_user.pk)})
    assert response.status_code == 200
    assert "router" in str(response.context["adminform"].form.errors["owner"])
    character.refresh_from_db()
    assert character.owner == user

    HandoffTarget.objects.all().delete()
    assert admin_client.post(url, {**payload, "owner": str(other_user.pk)}).status_code == 302
    character.refresh_from_db()
    assert character.owner == other_user


# --- actions ---------------------------------------------------------------------------------


def file_bytes(fieldfile):
    with fieldfile.open("rb") as handle:
        return handle.read()


def run_action(admin_client, action, *characters):
    return admin_client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(c.pk) for c in characters]},
    )


def test_duplicate_makes_unique_slugs_and_leaves_the_key_out(admin_client, full_character):
    assert run_action(admin_client, "duplicate_selected", full_character).status_code == 302
    assert run_action(admin_client, "duplicate_selected", full_character).status_code == 302
    first = Character.objects.get(slug="sales-agent-copy")
    second = Character.objects.get(slug="sales-agent-copy-2")
    for copy in (first, second):
        assert copy.owner == full_character.owner
        assert copy.llm_api_key is None
        assert copy.kb_query_api_key is None
        assert copy.kb_query_url == full_character.kb_query_url
        assert copy.tools == full_character.tools
        assert copy.system_prompt == full_character.system_prompt
        assert copy.allowed_origins == full_character.allowed_origins
        assert copy.widget_appearance == full_character.widget_appearance
        assert [t.slug for t in copy.ordered_handoff_targets] == ["support-bot"]
        # The API's duplicate, one path: its documents too, each with a file of its own.
        [document] = copy.documents.all()
        [original] = full_character.documents.all()
        assert (document.status, document.error) == ("FAILED", "Could not parse page 3")
        assert document.file.name != original.file.name
        assert file_bytes(document.file) == file_bytes(original.file)
        # Its own files, so deleting one character never removes the other's.
        assert copy.image.name != full_character.image.name
        assert file_bytes(copy.image) == file_bytes(full_character.image)
        assert copy.voice_audio_file.name != full_character.voice_audio_file.name
    assert LogEntry.objects.filter(object_id=str(first.pk)).exists()


def test_duplicate_with_key_copies_the_key(admin_client, full_character):
    response = run_action(admin_client, "duplicate_selected_with_key", full_character)
    assert response.status_code == 302
    copy = Character.objects.get(slug="sales-agent-copy")
    assert (copy.llm_api_key, copy.kb_query_api_key) == (SECRET, KB_SECRET)


def test_duplicate_keeps_long_slugs_within_the_limit(admin_client, make_character, user):
    original = make_character(user, slug="x" * 64)
    run_action(admin_client, "duplicate_selected", original)
    assert Character.objects.filter(slug="x" * 59 + "-copy").exists()


def test_export_gives_the_apis_representation_without_keys(
    admin_client, auth_client, full_character
):
    response = run_action(admin_client, "export_as_json", full_character)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert SECRET not in response.content.decode()
    exported = response.json()
    from_api = auth_client.get("/api/ai-characters/sales-agent/").json()
    assert exported == [from_api]
    assert "llm_api_key" not in exported[0]
    assert exported[0]["has_llm_api_key"] is True
    assert KB_SECRET not in response.content.decode()
    assert "kb_query_api_key" not in exported[0]
    assert exported[0]["has_kb_query_api_key"] is True


# --- tools and MCP servers ---------------------------------------------------------------------

HEADER_SECRET = "hdr-secret-9b27e1"
TOOLS = [
    {
        "name": "create_ticket",
        "kind": "http",
        "config": {"url": "https://api.acme.com/t", "headers": {"X-Oshara-Secret": HEADER_SECRET}},
    },
    {"name": "search", "kind": "mcp", "config": {"server_name": "help", "tool_name": "search"}},
]
SERVERS = [
    {"name": "help", "url": "https://mcp.acme.com", "headers": {"Authorization": HEADER_SECRET}}
]


def test_tool_header_values_never_reach_admin_html_and_survive_a_save(
    admin_client, auth_client, character
):
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/", {"tools": TOOLS, "mcp_servers": SERVERS}
    )
    assert response.status_code == 200, response.json()
    url = change_url(character)
    page = admin_client.get(url)
    html = page.content.decode()
    assert HEADER_SECRET not in html
    assert "********" in html

    assert admin_client.post(url, {**form_payload(page), "name": "Renamed"}).status_code == 302
    character.refresh_from_db()
    assert character.name == "Renamed"
    assert character.tools[0]["config"]["headers"] == {"X-Oshara-Secret": HEADER_SECRET}
    assert character.mcp_servers[0]["headers"] == {"Authorization": HEADER_SECRET}
    for path in (
        CHANGELIST,
        url,
        reverse("admin:characters_character_history", args=[character.pk]),
    ):
        assert HEADER_SECRET not in admin_client.get(path).content.decode()


def test_admin_tools_get_the_apis_validation(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    bad = [{"name": "1-bad name", "kind": "http", "config": {"url": "https://a.com"}}]
    response = admin_client.post(url, {**payload, "tools": json.dumps(bad)})
    assert response.status_code == 200
    assert "tools" in response.context["adminform"].form.errors
    character.refresh_from_db()
    assert character.tools == []


def test_an_upload_replaced_in_the_admin_leaves_no_orphan(
    admin_client, character, settings, django_capture_on_commit_callbacks
):
    # The change form saves through characters.services, as the API does.
    character.image = png_upload("old.png")
    character.save()
    payload = form_payload(admin_client.get(change_url(character)))
    payload["image"] = png_upload("new.png")
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(change_url(character), payload).status_code == 302
    character.refresh_from_db()
    assert stored_files(settings.MEDIA_ROOT) == [character.image.name]
    assert "new" in character.image.name


def test_an_admin_delete_removes_the_uploads(
    admin_client, character, settings, django_capture_on_commit_callbacks
):
    character.image = png_upload()
    character.save()
    delete_url = reverse("admin:characters_character_delete", args=[character.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Character.objects.filter(pk=character.pk).exists()
    assert stored_files(settings.MEDIA_ROOT) == []


# --- the platform's newer fields: is_active, kb_query_url / kb_query_api_key, tool kinds ------


def test_kb_key_set_keep_and_clear_through_the_form(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    assert payload["kb_query_api_key"] == ""
    changed = {**payload, "kb_query_api_key": KB_SECRET, "kb_query_url": "https://kb.acme.com/q"}
    assert admin_client.post(url, changed).status_code == 302
    character.refresh_from_db()
    assert (character.kb_query_api_key, character.kb_query_url) == (
        KB_SECRET,
        "https://kb.acme.com/q",
    )
    assert KB_SECRET not in stored_ciphertext(character, "kb_query_api_key")
    assert KB_SECRET not in admin_client.get(url).content.decode()

    payload = form_payload(admin_client.get(url))
    assert admin_client.post(url, {**payload, "name": "Renamed"}).status_code == 302
    character.refresh_from_db()
    assert character.kb_query_api_key == KB_SECRET

    both = {**payload, "kb_query_api_key": "x", "clear_kb_query_api_key": "on"}
    response = admin_client.post(url, both)
    assert "clear_kb_query_api_key" in response.context["adminform"].form.errors
    assert admin_client.post(url, {**payload, "clear_kb_query_api_key": "on"}).status_code == 302
    character.refresh_from_db()
    assert character.kb_query_api_key is None
    assert character.llm_api_key is None  # the other key's checkbox was not ticked


def test_bad_kb_query_url_is_refused_in_the_admin(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(url, {**payload, "kb_query_url": "ftp://kb.acme.com"})
    assert response.status_code == 200
    assert "kb_query_url" in response.context["adminform"].form.errors
    character.refresh_from_db()
    assert character.kb_query_url == ""


def test_operator_deactivates_and_reactivates_a_character(admin_client, character):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    assert payload["is_active"] == "on"
    payload.pop("is_active")  # an unticked checkbox is not sent
    assert admin_client.post(url, payload).status_code == 302
    character.refresh_from_db()
    assert character.is_active is False
    listed = admin_client.get(CHANGELIST, {"is_active__exact": "0"})
    assert character.slug in listed.content.decode()
    assert admin_client.post(url, {**payload, "is_active": "on"}).status_code == 302
    character.refresh_from_db()
    assert character.is_active is True


def test_admin_accepts_and_shows_kb_and_client_event_tools(admin_client, full_character):
    url = change_url(full_character)
    html = admin_client.get(url).content.decode()
    assert "client_event" in html
    assert "acme.offer" in html
    payload = form_payload(admin_client.get(url))
    assert admin_client.post(url, payload).status_code == 302
    full_character.refresh_from_db()
    kb = full_character.tools[0]
    assert kb["kind"] == "kb"
    assert kb["input_schema"]["required"] == ["query"]  # the default, filled in on save
    assert set(kb["input_schema"]["properties"]) == {"query", "top_k"}


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ({"name": "t", "kind": "client_event", "config": {"topic": "bad topic!"}}, "topic"),
        ({"name": "t", "kind": "client_event", "config": {}}, "topic"),
        ({"name": "t", "kind": "kb", "config": {"url": "https://x.com"}}, "url"),
        ({"name": "t", "kind": "search", "config": {}}, "kind"),
    ],
)
def test_admin_tool_kinds_get_the_apis_validation(admin_client, character, tool, message):
    url = change_url(character)
    payload = form_payload(admin_client.get(url))
    response = admin_client.post(url, {**payload, "tools": json.dumps([tool])})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["tools"]
    assert any(message in error for error in errors), errors
    character.refresh_from_db()
    assert character.tools == []
