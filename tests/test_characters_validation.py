"""Bad input to /api/ai-characters/: always a 400 naming the field, never a 500, nothing saved."""

import pytest

from characters.models import Character
from tests.helpers import REQUIRED, item

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"
VALID = {"slug": "bot", "name": "Bot"}


def create(client, **fields):
    return client.post(URL, {**VALID, **fields})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Upper-Case"),
        ("slug", "with space"),
        ("slug", "dots.not.allowed"),
        ("slug", "x" * 65),
        ("slug", ""),
        ("slug", 42),
        ("name", ""),
        ("name", "n" * 101),
        ("name", 12),
        ("name", None),
        ("system_prompt", "p" * 100_001),
        ("greeting", "g" * 2_001),
        ("greeting", ["hi"]),
        ("character_type", "WIZARD"),
        ("character_type", "podcast_host"),
        ("character_type", 1),
        ("language", "english"),
        ("language", "en_US"),
        ("language", "xx-123456789"),
        ("language", ""),
        ("language", 7),
        ("background_audio", "jungle"),
        ("background_audio", "Office"),
        ("background_audio", None),
        ("allowed_origins", "x"),
        ("allowed_origins", "https://acme.com"),
        ("allowed_origins", {"a": 1}),
        ("allowed_origins", [1]),
        ("allowed_origins", ["acme.com"]),
        ("allowed_origins", ["ftp://acme.com"]),
        ("allowed_origins", ["https://"]),
        ("allowed_origins", ["https://user:pass@acme.com"]),
        ("allowed_origins", ["https://acme.com/?q=1"]),
        ("allowed_origins", ["https://acme.com/#top"]),
        ("allowed_origins", ["https://acme.com:99999"]),
        ("allowed_origins", ["https://acme .com"]),
        ("allowed_origins", [f"https://site{i}.example.com" for i in range(51)]),
        ("widget_appearance", []),
        ("widget_appearance", "x"),
        ("widget_appearance", None),
        ("widget_appearance", {"nmae": "typo"}),
        ("handoff_targets", "support-bot"),
        ("handoff_targets", [{"slug": "does-not-exist"}]),
        ("handoff_targets", [{"slug": 5}]),
        ("handoff_targets", [{"slug": "x", "extra": 1}]),
        ("handoff_targets", [{}]),
        ("voice", "https://voices.example.com/v1"),
        ("voice", {"voice_url": "not a url"}),
        ("voice", {"voice_url": "ftp://voices.example.com/a.wav"}),
        ("voice", {"speed": 2}),
        ("llm_provider", "anthropic"),
        ("llm_model", "m" * 101),
        ("llm_model", 4),
        ("stt_model", "s" * 101),
        ("tts_model", False),
        ("llm_api_key", 12345),
        ("image", "https://example.com/a.png"),
    ],
)
def test_bad_value_is_400_naming_the_field(auth_client, field, value):
    response = create(auth_client, **{field: value})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Character.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("voice", {"voice_url": "nope"}, ["voice", "voice_url"]),
        ("handoff_targets", [{"slug": "missing"}], ["handoff_targets", "0", "slug"]),
        ("allowed_origins", ["https://ok.com", "bad"], ["allowed_origins", "1"]),
        ("widget_appearance", {"theme": {"primary_color": "red"}}, ["widget_appearance", "theme"]),
        (
            "widget_appearance",
            {"forms": [{"id": "f", "title": "F", "fields": [{"name": 1}]}]},
            ["widget_appearance", "forms", "0", "fields", "0", "name"],
        ),
    ],
)
def test_nested_errors_are_nested_under_their_field(auth_client, field, value, path):
    response = create(auth_client, **{field: value})
    assert response.status_code == 400
    node = response.json()
    for key in path:
        node = node[key]
    assert node


def test_character_type_error_lists_the_choices(auth_client):
    response = create(auth_client, character_type="WIZARD")
    message = response.json()["character_type"][0]
    for choice in ("PODCAST_HOST", "STORY_TELLER", "SUPPORT_AGENT"):
        assert choice in message


@pytest.mark.parametrize("body", [{}, [], "text", 5, None])
def test_empty_or_non_object_bodies_are_400(auth_client, body):
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)


@pytest.mark.parametrize("value", ["en", "en-US", "pt-BR", "zh-Hant-TW", "es-419", "sr-Latn"])
def test_valid_language_tags_are_accepted(auth_client, value):
    assert create(auth_client, language=value).status_code == 201


@pytest.mark.parametrize("value", ["", "office", "crowded room", "cafe", "nature"])
def test_every_background_audio_option_is_accepted(auth_client, value):
    response = create(auth_client, background_audio=value)
    assert response.status_code == 201
    assert response.json()["background_audio"] == value


@pytest.mark.parametrize("value", ["", "PODCAST_HOST", "STORY_TELLER", "SUPPORT_AGENT"])
def test_character_type_choices_are_accepted(auth_client, value):
    assert create(auth_client, character_type=value).status_code == 201


def test_allowed_origins_duplicates_removed_in_order(auth_client):
    origins = [
        "https://b.com",
        "https://a.com",
        "https://b.com/",
        "http://localhost:3000/app",
        "http://localhost:3000",
    ]
    response = create(auth_client, allowed_origins=origins)
    assert response.status_code == 201
    # each entry stored as its origin (DESIGN, "Characters"), then repeats removed
    assert response.json()["allowed_origins"] == [
        "https://b.com",
        "https://a.com",
        "http://localhost:3000",
    ]


def test_empty_allowed_origins_is_valid(auth_client):
    response = create(auth_client, allowed_origins=[])
    assert response.status_code == 201
    assert response.json()["allowed_origins"] == []


def test_handoff_target_must_belong_to_the_same_owner(auth_client, other_user, make_character):
    make_character(other_user, slug="theirs")
    response = create(auth_client, handoff_targets=[{"slug": "theirs"}])
    assert response.status_code == 400
    assert "slug" in response.json()["handoff_targets"]["0"]


def test_handoff_target_cannot_be_itself(auth_client, character):
    response = auth_client.patch(
        f"{URL}{character.slug}/", {"handoff_targets": [{"slug": character.slug}]}
    )
    assert response.status_code == 400
    assert response.json()["handoff_targets"]["0"]["slug"]


def test_handoff_targets_cannot_repeat(auth_client, user, make_character):
    make_character(user, slug="t")
    response = create(auth_client, handoff_targets=[{"slug": "t"}, {"slug": "t"}])
    assert response.status_code == 400
    errors = response.json()["handoff_targets"]
    assert set(errors) == {"1"}
    assert errors["1"]["slug"]


def test_failed_patch_leaves_the_character_unchanged(auth_client, user, make_character):
    make_character(user, slug="t")
    auth_client.post(
        URL,
        {**VALID, "greeting": "Hello", "handoff_targets": [{"slug": "t"}], "llm_api_key": "k"},
    )
    before = auth_client.get(f"{URL}bot/").json()
    response = auth_client.patch(
        f"{URL}bot/",
        {"greeting": "Changed", "handoff_targets": [], "language": "not a language"},
    )
    assert response.status_code == 400
    assert auth_client.get(f"{URL}bot/").json() == before


def test_failed_put_leaves_the_character_unchanged(auth_client):
    auth_client.post(URL, {**VALID, "greeting": "Hello", "allowed_origins": ["https://a.com"]})
    before = auth_client.get(f"{URL}bot/").json()
    response = auth_client.put(f"{URL}bot/", {**VALID, "background_audio": "jungle"})
    assert response.status_code == 400
    assert auth_client.get(f"{URL}bot/").json() == before


def test_huge_body_strings_are_400_not_500(auth_client):
    response = create(auth_client, name="n" * 100_000, greeting="g" * 50_000)
    assert response.status_code == 400
    assert {"name", "greeting"} <= set(response.json())


# Found by the fuzz stage (.ci/fuzz).


def test_patch_handoff_target_without_slug_is_400(auth_client, character):
    response = auth_client.patch(f"/api/ai-characters/{character.slug}/", {"handoff_targets": [{}]})
    assert response.status_code == 400
    assert item(response.json()["handoff_targets"], 0) == {"slug": REQUIRED}
