"""widget_appearance: the whole schema, strictly validated, stored exactly as sent."""

import copy

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from characters.models import Character
from tests.helpers import REQUIRED, item
from tests.reference import SALES_AGENT

URL = "/api/ai-characters/support-bot/"

FULL_APPEARANCE = {
    "name": "Acme Sales",
    "subtitle": "We answer in seconds",
    "logo_url": "https://cdn.acme.com/logo.png",
    "fab_label": "Talk to us",
    "fab_sublabel": "Voice assistant",
    "start_button_text": "Call now",
    "powered_by_text": "",
    "powered_by_url": "",
    "max_call_seconds": 600,
    "terms_url": "https://acme.com/terms",
    "terms_label": "Terms",
    "consent_text": "By calling you accept our",
    "show_audio_settings": False,
    "default_language": "pt-BR",
    "theme": {
        "primary_color": "#FF6B35",
        "accent_color": "#fff",
        "background_color": "#000000",
        "text_color": "#0F172A",
        "user_bubble_color": "#6366F1",
        "user_bubble_text_color": "#FFFFFF80",
        "agent_bubble_color": "#F1F5F9",
        "agent_bubble_text_color": "#0f172a",
    },
    "dimensions": {"fab_size": 56, "panel_width": 400, "panel_height": 640, "border_radius": 0},
    "layout": {"position": "top-left", "font_family": "'Open Sans', Arial, sans-serif"},
    "labels": {
        "idle": "Ready",
        "connecting": "Connecting",
        "listening": "Listening",
        "speaking": "Speaking",
        "muted": "Muted",
        "call_ended": "Bye",
        "transcript_placeholder": "",
        "language_label": "Idioma",
    },
    "languages": [
        {"code": "en", "label": "English", "native_label": "English"},
        {"code": "pt-BR", "label": "Portuguese", "native_label": "Português"},
    ],
    "forms": [
        {
            "id": "book-demo",
            "title": "Book a demo",
            "subtitle": "Takes a minute",
            "submit_url": None,
            "submit_method": "POST",
            "submit_label": "Book",
            "success_message": "See you soon!",
            "disabled": False,
            "topics": ["sales"],
            "event_types": ["demo"],
            "confirmation_topic": "voice.user_text",
            "confirmation_type": "book-demo_submitted",
            "layout": {"field_layout": "grid"},
            "fields": [
                {"name": "name", "label": "Your name", "type": "text", "required": True},
                {"name": "email", "label": "Work email", "type": "email", "required": True},
                {"name": "size", "type": "select", "options": ["1-10", {"value": "11+"}]},
                {"name": "notes", "type": "textarea", "rows": 4, "width": "half"},
                {"name": "phone", "type": "tel", "pattern": "^\\+?[0-9 ]{6,20}$"},
                {"name": "seats", "type": "number", "min": 1, "max": 500.5},
                {"name": "day", "type": "date", "min": "2025-01-01", "max": "2026-12-31"},
                {"name": "at", "type": "time", "min": "09:00", "max": "17:30"},
                {"name": "nick", "placeholder": "optional", "min": 2, "max": 40},
                {"name": "terms", "type": "checkbox"},
                {"name": "colour", "type": "radio", "options": ["red", "blue"]},
                {"name": "site", "type": "url"},
            ],
        },
        {
            "id": "callback",
            "title": "Call me back",
            "submit_url": "https://hooks.acme.com/callback",
            "submit_method": "PUT",
            "steps": [
                {"title": "Who", "fields": [{"name": "name"}]},
                {"title": "When", "fields": [{"name": "when", "type": "time"}]},
            ],
        },
        {
            "id": "relative",
            "title": "Relative",
            "submit_url": "/hooks/x",
            "fields": [{"name": "a"}],
        },
    ],
}


def valid_form(**overrides):
    form = {"id": "contact", "title": "Contact us", "fields": [{"name": "email"}]}
    form.update(overrides)
    return form


def with_field(**field):
    field.setdefault("name", "f")
    return {"forms": [valid_form(fields=[field])]}


def error_at(body, path):
    """The messages at `path` in a DRF error body, failing if there are none."""
    node = body
    for key in path:
        assert isinstance(node, dict) and str(key) in node, (path, body)
        node = node[str(key)]
    assert isinstance(node, list) and node and all(isinstance(m, str) for m in node), body
    return node


@pytest.mark.django_db
def test_full_appearance_is_accepted_and_stored_exactly_as_sent(auth_client, character):
    response = auth_client.patch(URL, {"widget_appearance": FULL_APPEARANCE})
    assert response.status_code == 200, response.json()
    assert response.json()["widget_appearance"] == FULL_APPEARANCE
    character.refresh_from_db()
    assert character.widget_appearance == FULL_APPEARANCE


@pytest.mark.django_db
def test_no_defaults_are_injected_into_the_stored_overrides(auth_client, character):
    sent = {"theme": {"primary_color": "#FF6B35"}, "forms": [valid_form()]}
    response = auth_client.patch(URL, {"widget_appearance": sent})
    assert response.status_code == 200
    assert response.json()["widget_appearance"] == sent
    character.refresh_from_db()
    assert character.widget_appearance == sent


@pytest.mark.django_db
def test_strings_are_kept_verbatim(auth_client, character):
    sent = {"name": "  Acme  ", "forms": [valid_form(fields=[{"name": "a", "pattern": " x$"}])]}
    assert auth_client.patch(URL, {"widget_appearance": sent}).status_code == 200
    character.refresh_from_db()
    assert character.widget_appearance == sent


@pytest.mark.django_db
def test_reference_example_is_accepted(auth_client):
    body = {
        key: SALES_AGENT[key] for key in ("slug", "name", "allowed_origins", "widget_appearance")
    }
    response = auth_client.post("/api/ai-characters/", body)
    assert response.status_code == 201, response.json()
    assert response.json()["widget_appearance"] == body["widget_appearance"]


@pytest.mark.django_db
def test_put_without_appearance_clears_the_overrides(auth_client, character):
    character.widget_appearance = {"name": "Old"}
    character.save()
    response = auth_client.put(URL, {"slug": "support-bot", "name": "Support Bot"})
    assert response.status_code == 200
    assert response.json()["widget_appearance"] == {}


BAD_APPEARANCES = [
    # top level
    ("not an object", ["Expected"], ("non_field_errors",)),
    ({"nmae": "typo"}, None, ("nmae",)),
    ({"name": 5}, None, ("name",)),
    ({"name": "x" * 101}, None, ("name",)),
    ({"subtitle": ["a"]}, None, ("subtitle",)),
    ({"logo_url": "ftp://acme.com/logo.png"}, None, ("logo_url",)),
    ({"fab_label": None}, None, ("fab_label",)),
    ({"fab_sublabel": True}, None, ("fab_sublabel",)),
    ({"start_button_text": ""}, None, ("start_button_text",)),
    ({"powered_by_text": 1}, None, ("powered_by_text",)),
    ({"powered_by_url": "javascript:alert(1)"}, None, ("powered_by_url",)),
    ({"max_call_seconds": -1}, None, ("max_call_seconds",)),
    ({"max_call_seconds": "60"}, None, ("max_call_seconds",)),
    ({"max_call_seconds": 60.5}, None, ("max_call_seconds",)),
    ({"max_call_seconds": 86401}, None, ("max_call_seconds",)),
    ({"terms_url": "acme.com/terms"}, None, ("terms_url",)),
    ({"terms_label": {}}, None, ("terms_label",)),
    ({"consent_text": 0}, None, ("consent_text",)),
    ({"show_audio_settings": "yes"}, None, ("show_audio_settings",)),
    ({"show_audio_settings": 1}, None, ("show_audio_settings",)),
    ({"default_language": "en_US"}, None, ("default_language",)),
    ({"default_language": "not a language"}, None, ("default_language",)),
    # theme
    ({"theme": "blue"}, None, ("theme", "non_field_errors")),
    ({"theme": {"primary": "#FFFFFF"}}, None, ("theme", "primary")),
    ({"theme": {"primary_color": "red"}}, None, ("theme", "primary_color")),
    ({"theme": {"accent_color": "#12345"}}, None, ("theme", "accent_color")),
    ({"theme": {"background_color": "FFFFFF"}}, None, ("theme", "background_color")),
    ({"theme": {"text_color": "#GGGGGG"}}, None, ("theme", "text_color")),
    ({"theme": {"user_bubble_color": 6366}}, None, ("theme", "user_bubble_color")),
    ({"theme": {"user_bubble_text_color": ""}}, None, ("theme", "user_bubble_text_color")),
    ({"theme": {"agent_bubble_color": "#FFF\n"}}, None, ("theme", "agent_bubble_color")),
    ({"theme": {"agent_bubble_text_color": None}}, None, ("theme", "agent_bubble_text_color")),
    # dimensions
    ({"dimensions": {"fab_size": 0}}, None, ("dimensions", "fab_size")),
    ({"dimensions": {"fab_size": "64"}}, None, ("dimensions", "fab_size")),
    ({"dimensions": {"panel_width": 10_000}}, None, ("dimensions", "panel_width")),
    ({"dimensions": {"panel_height": 620.5}}, None, ("dimensions", "panel_height")),
    ({"dimensions": {"border_radius": -1}}, None, ("dimensions", "border_radius")),
    ({"dimensions": {"border_radius": True}}, None, ("dimensions", "border_radius")),
    ({"dimensions": {"height": 1}}, None, ("dimensions", "height")),
    # layout
    ({"layout": {"position": "center"}}, ["bottom-right"], ("layout", "position")),
    ({"layout": {"font_family": "Inter; } body { display:none"}}, None, ("layout", "font_family")),
    ({"layout": {"font_family": ""}}, None, ("layout", "font_family")),
    ({"layout": {"align": "left"}}, None, ("layout", "align")),
    # labels
    ({"labels": {"idle": 3}}, None, ("labels", "idle")),
    ({"labels": {"ringing": "..."}}, None, ("labels", "ringing")),
    ({"labels": {"language_label": None}}, None, ("labels", "language_label")),
    # languages
    ({"languages": {"code": "en"}}, None, ("languages", "non_field_errors")),
    ({"languages": [{"code": "english!", "label": "E"}]}, None, ("languages", 0, "code")),
    ({"languages": [{"code": "en"}]}, None, ("languages", 0, "label")),
    ({"languages": [{"label": "English"}]}, None, ("languages", 0, "code")),
    ({"languages": [{"code": "en", "label": "E", "flag": "x"}]}, None, ("languages", 0, "flag")),
    (
        {"languages": [{"code": "en", "label": "E"}, {"code": "EN", "label": "E2"}]},
        None,
        ("languages", 1, "code"),
    ),
    (
        {"default_language": "fr", "languages": [{"code": "en", "label": "English"}]},
        None,
        ("default_language",),
    ),
    # forms
    ({"forms": {"id": "x"}}, None, ("forms", "non_field_errors")),
    ({"forms": [valid_form(extra=1)]}, None, ("forms", 0, "extra")),
    ({"forms": [{"title": "T", "fields": [{"name": "a"}]}]}, None, ("forms", 0, "id")),
    ({"forms": [valid_form(id="1st")]}, None, ("forms", 0, "id")),
    ({"forms": [valid_form(id="has space")]}, None, ("forms", 0, "id")),
    ({"forms": [valid_form(id="x" * 65)]}, None, ("forms", 0, "id")),
    ({"forms": [valid_form(), valid_form()]}, ["already"], ("forms", 1, "id")),
    ({"forms": [valid_form(id="a-b"), valid_form(id="a_b")]}, None, ("forms", 1, "id")),
    ({"forms": [{"id": "x", "fields": [{"name": "a"}]}]}, None, ("forms", 0, "title")),
    ({"forms": [valid_form(title="")]}, None, ("forms", 0, "title")),
    (
        {"forms": [valid_form(steps=[{"title": "s", "fields": [{"name": "b"}]}])]},
        ["exactly one"],
        ("forms", 0, "non_field_errors"),
    ),
    ({"forms": [{"id": "x", "title": "T"}]}, ["exactly one"], ("forms", 0, "non_field_errors")),
    ({"forms": [valid_form(fields=[])]}, None, ("forms", 0, "fields", "non_field_errors")),
    ({"forms": [valid_form(submit_url="ftp://acme.com")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="//evil.com/x")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="javascript:alert(1)")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="/\\evil.com/x")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="\\\\evil.com")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="forms/ x")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_url="?x=1")]}, None, ("forms", 0, "submit_url")),
    ({"forms": [valid_form(submit_method="GET")]}, ["POST"], ("forms", 0, "submit_method")),
    ({"forms": [valid_form(submit_label=7)]}, None, ("forms", 0, "submit_label")),
    ({"forms": [valid_form(success_message=None)]}, None, ("forms", 0, "success_message")),
    ({"forms": [valid_form(disabled="no")]}, None, ("forms", 0, "disabled")),
    ({"forms": [valid_form(topics=[1])]}, None, ("forms", 0, "topics", 0)),
    ({"forms": [valid_form(topics="sales")]}, None, ("forms", 0, "topics")),
    ({"forms": [valid_form(event_types=[""])]}, None, ("forms", 0, "event_types", 0)),
    ({"forms": [valid_form(confirmation_topic="")]}, None, ("forms", 0, "confirmation_topic")),
    ({"forms": [valid_form(confirmation_type=1)]}, None, ("forms", 0, "confirmation_type")),
    (
        {"forms": [valid_form(layout={"field_layout": "columns"})]},
        ["stack"],
        ("forms", 0, "layout", "field_layout"),
    ),
    ({"forms": [valid_form(layout={"gap": 1})]}, None, ("forms", 0, "layout", "gap")),
    ({"forms": [valid_form(subtitle=3)]}, None, ("forms", 0, "subtitle")),
    # steps
    (
        {"forms": [valid_form(fields=None, steps=[{"fields": [{"name": "a"}]}])]},
        None,
        ("forms", 0, "fields"),
    ),
    (
        {"forms": [{"id": "x", "title": "T", "steps": [{"fields": [{"name": "a"}]}]}]},
        None,
        ("forms", 0, "steps", 0, "title"),
    ),
    (
        {"forms": [{"id": "x", "title": "T", "steps": [{"title": "s"}]}]},
        None,
        ("forms", 0, "steps", 0, "fields"),
    ),
    (
        {"forms": [{"id": "x", "title": "T", "steps": []}]},
        None,
        ("forms", 0, "steps", "non_field_errors"),
    ),
    (
        {"forms": [{"id": "x", "title": "T", "steps": [{"title": "s", "fields": [], "x": 1}]}]},
        None,
        ("forms", 0, "steps", 0, "x"),
    ),
    (
        {
            "forms": [
                {
                    "id": "x",
                    "title": "T",
                    "steps": [
                        {"title": "one", "fields": [{"name": "email"}]},
                        {"title": "two", "fields": [{"name": "phone"}, {"name": "email"}]},
                    ],
                }
            ]
        },
        ["already used"],
        ("forms", 0, "steps", 1, "fields", 1, "name"),
    ),
    # fields
    (with_field(name=None), None, ("forms", 0, "fields", 0, "name")),
    ({"forms": [valid_form(fields=[{"label": "x"}])]}, None, ("forms", 0, "fields", 0, "name")),
    (
        {"forms": [valid_form(fields=[{"name": "a"}, {"name": "a"}])]},
        ["already used"],
        ("forms", 0, "fields", 1, "name"),
    ),
    (with_field(name="has space"), None, ("forms", 0, "fields", 0, "name")),
    (with_field(name=""), None, ("forms", 0, "fields", 0, "name")),
    (with_field(label=1), None, ("forms", 0, "fields", 0, "label")),
    (with_field(type="color"), ["textarea"], ("forms", 0, "fields", 0, "type")),
    (with_field(required="true"), None, ("forms", 0, "fields", 0, "required")),
    (with_field(placeholder=False), None, ("forms", 0, "fields", 0, "placeholder")),
    (with_field(type="select"), ["options"], ("forms", 0, "fields", 0, "options")),
    (with_field(type="radio", options=[]), None, ("forms", 0, "fields", 0, "options")),
    (with_field(type="text", options=["a"]), None, ("forms", 0, "fields", 0, "options")),
    (with_field(type="select", options=["a", "a"]), None, ("forms", 0, "fields", 0, "options")),
    (with_field(type="select", options=[1]), None, ("forms", 0, "fields", 0, "options", 0)),
    (with_field(type="select", options=[""]), None, ("forms", 0, "fields", 0, "options", 0)),
    (
        with_field(type="select", options=[{"label": "A"}]),
        None,
        ("forms", 0, "fields", 0, "options", 0, "value"),
    ),
    (
        with_field(type="select", options=[{"value": "a", "colour": "red"}]),
        None,
        ("forms", 0, "fields", 0, "options", 0, "colour"),
    ),
    (with_field(width="third"), ["full"], ("forms", 0, "fields", 0, "width")),
    (with_field(type="textarea", rows=0), None, ("forms", 0, "fields", 0, "rows")),
    (with_field(type="textarea", rows="4"), None, ("forms", 0, "fields", 0, "rows")),
    (with_field(type="text", rows=4), None, ("forms", 0, "fields", 0, "rows")),
    (with_field(pattern="([a-z]"), ["regular expression"], ("forms", 0, "fields", 0, "pattern")),
    (with_field(pattern=""), None, ("forms", 0, "fields", 0, "pattern")),
    (with_field(type="number", min=10, max=1), None, ("forms", 0, "fields", 0, "max")),
    (with_field(type="number", min="1"), None, ("forms", 0, "fields", 0, "min")),
    (with_field(type="number", max=True), None, ("forms", 0, "fields", 0, "max")),
    (with_field(type="date", min="31/01/2025"), None, ("forms", 0, "fields", 0, "min")),
    (
        with_field(type="date", min="2025-02-01", max="2025-01-01"),
        None,
        ("forms", 0, "fields", 0, "max"),
    ),
    (with_field(type="time", max="25:00"), None, ("forms", 0, "fields", 0, "max")),
    (with_field(type="text", min=-1), None, ("forms", 0, "fields", 0, "min")),
    (with_field(type="email", max=2.5), None, ("forms", 0, "fields", 0, "max")),
    (with_field(min=[1]), None, ("forms", 0, "fields", 0, "min")),
    (with_field(hint="x"), None, ("forms", 0, "fields", 0, "hint")),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("appearance", "words", "path"),
    BAD_APPEARANCES,
    ids=[f"{i}-{'.'.join(map(str, case[2]))}" for i, case in enumerate(BAD_APPEARANCES)],
)
def test_invalid_appearance_is_400_with_the_nested_path(
    auth_client, character, appearance, words, path
):
    character.widget_appearance = {"name": "Kept"}
    character.save()
    response = auth_client.patch(URL, {"widget_appearance": appearance})
    assert response.status_code == 400, response.json()
    messages = error_at(response.json(), ("widget_appearance", *path))
    for word in words or []:
        assert any(word in message for message in messages), messages
    character.refresh_from_db()
    assert character.widget_appearance == {"name": "Kept"}


@pytest.mark.django_db
def test_appearance_null_is_400(auth_client, character):
    response = auth_client.patch(URL, {"widget_appearance": None})
    assert response.status_code == 400
    error_at(response.json(), ("widget_appearance",))


@pytest.mark.django_db
def test_put_validates_the_appearance_too(auth_client, character):
    body = {"slug": "support-bot", "name": "Support Bot", "widget_appearance": {"theme": 1}}
    response = auth_client.put(URL, body)
    assert response.status_code == 400
    error_at(response.json(), ("widget_appearance", "theme", "non_field_errors"))


# The model validator (and so the admin) runs the same serializer.


@pytest.mark.django_db
def test_model_validation_rejects_a_bad_appearance_with_its_path(user):
    character = Character(owner=user, slug="x", name="X")
    character.widget_appearance = {"theme": {"primary_color": "red"}}
    with pytest.raises(ValidationError) as excinfo:
        character.full_clean()
    messages = excinfo.value.message_dict["widget_appearance"]
    assert any(message.startswith("theme.primary_color:") for message in messages), messages


@pytest.mark.django_db
def test_model_validation_reports_list_items_by_index(user):
    forms = [valid_form(fields=[{"name": "a"}, {"name": "a"}])]
    character = Character(owner=user, slug="x", name="X", widget_appearance={"forms": forms})
    with pytest.raises(ValidationError) as excinfo:
        character.full_clean()
    messages = excinfo.value.message_dict["widget_appearance"]
    assert any(message.startswith("forms.0.fields.1.name:") for message in messages), messages


@pytest.mark.django_db
def test_model_validation_accepts_the_full_appearance(user):
    character = Character(owner=user, slug="x", name="X")
    character.widget_appearance = copy.deepcopy(FULL_APPEARANCE)
    character.full_clean()
    assert character.widget_appearance == FULL_APPEARANCE


@pytest.mark.django_db
def test_admin_style_model_form_uses_the_same_rules(user):
    form_class = modelform_factory(Character, fields=["name", "widget_appearance"])
    character = Character.objects.create(owner=user, slug="x", name="X")
    form = form_class(
        data={"name": "X", "widget_appearance": '{"layout": {"position": "middle"}}'},
        instance=character,
    )
    assert not form.is_valid()
    assert any("layout.position" in message for message in form.errors["widget_appearance"])


# Found by the fuzz stage (.ci/fuzz).


def test_patch_nested_form_without_id_is_400_not_500(auth_client, character):
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/",
        {"widget_appearance": {"forms": [{"title": "Book a demo"}]}},
    )
    assert response.status_code == 400
    assert item(response.json()["widget_appearance"]["forms"], 0) == {"id": REQUIRED}


def test_patch_nested_form_field_without_name_is_400(auth_client, character):
    form = {"id": "demo", "title": "Demo", "fields": [{"label": "Your name"}]}
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/", {"widget_appearance": {"forms": [form]}}
    )
    assert response.status_code == 400
    form_errors = item(response.json()["widget_appearance"]["forms"], 0)
    assert item(form_errors["fields"], 0) == {"name": REQUIRED}


def test_patch_still_changes_only_what_it_sends(auth_client, character):
    response = auth_client.patch(
        f"/api/ai-characters/{character.slug}/",
        {"widget_appearance": {"theme": {"primary_color": "#FF6B35"}}},
    )
    assert response.status_code == 200
    assert response.json()["widget_appearance"] == {"theme": {"primary_color": "#FF6B35"}}
    assert response.json()["name"] == "Support Bot"
