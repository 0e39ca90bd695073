"""GET /api/agents/{slug}/appearance/: the widget's public, Origin-gated, cached fetch."""

import io
import os
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.forms import modelform_factory
from django.test import Client
from PIL import Image

from characters.models import Character
from characters.widget import cache as appearance_cache
from characters.widget.checks import widget_origin_gate_check

ACME = "https://acme.com"
URL = "/api/agents/support-bot/appearance/"
API_URL = "/api/ai-characters/support-bot/"
REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/3"


@pytest.fixture
def widget(make_character, user):
    """A character embeddable from https://acme.com only, with private fields filled in."""
    return make_character(
        user,
        slug="support-bot",
        name="Support Bot",
        greeting="Hi! How can I help?",
        language="en-GB",
        system_prompt="SECRET-PROMPT-TEXT",
        llm_api_key="sk-SECRET-KEY-VALUE",
        allowed_origins=[ACME],
        widget_appearance={"name": "Acme Support", "theme": {"primary_color": "#FF6B35"}},
    )


@pytest.fixture
def browser():
    """An anonymous client, as a browser on another site is."""
    return Client()


def fetch(client, origin=ACME, url=URL, **extra):
    headers = {"HTTP_ORIGIN": origin} if origin is not None else {}
    return client.get(url, **headers, **extra)


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request, settings):
    """Runs a test on the in-process cache and on Redis (REDIS_URL, else the local db 3)."""
    if request.param == "locmem":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": f"widget-{uuid.uuid4()}",
            }
        }
    else:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_TEST_URL,
                # A fresh namespace per test instead of flushing a database others may use.
                "KEY_PREFIX": f"test-{uuid.uuid4()}",
            }
        }
    from django.core.cache import cache

    try:
        cache.set("probe", 1)
    except Exception:
        if "REDIS_URL" in os.environ:
            raise  # CI names its Redis: not reaching it is a failure
        pytest.skip(f"no Redis server at {REDIS_TEST_URL} (set REDIS_URL to run these cases)")
    assert cache.get("probe") == 1
    return request.param


# The payload.


@pytest.mark.django_db
def test_allowed_origin_gets_public_face_and_merged_appearance(browser, widget):
    response = fetch(browser)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"slug", "name", "image", "greeting", "language", "widget_appearance"}
    assert body["slug"] == "support-bot"
    assert body["name"] == "Support Bot"
    assert body["image"] is None
    assert body["greeting"] == "Hi! How can I help?"
    assert body["language"] == "en-GB"
    appearance = body["widget_appearance"]
    assert appearance["name"] == "Acme Support"
    assert appearance["start_button_text"] == "Start Call"
    assert appearance["powered_by_url"] == "https://oshara.ai"
    assert appearance["max_call_seconds"] == 0
    assert appearance["show_audio_settings"] is True
    assert appearance["theme"]["primary_color"] == "#FF6B35"
    assert appearance["theme"]["accent_color"] == "#22D3EE"
    assert appearance["theme"]["agent_bubble_text_color"] == "#0F172A"
    assert appearance["dimensions"] == {
        "fab_size": 64,
        "panel_width": 380,
        "panel_height": 620,
        "border_radius": 24,
    }
    assert appearance["layout"] == {"position": "bottom-right", "font_family": "Inter, sans-serif"}
    assert set(appearance["labels"]) == {
        "idle",
        "connecting",
        "listening",
        "speaking",
        "muted",
        "call_ended",
        "transcript_placeholder",
        "language_label",
    }
    assert appearance["languages"] == []
    assert appearance["forms"] == []


@pytest.mark.django_db
def test_merging_leaves_the_stored_overrides_untouched(browser, widget):
    fetch(browser)
    widget.refresh_from_db()
    assert widget.widget_appearance == {
        "name": "Acme Support",
        "theme": {"primary_color": "#FF6B35"},
    }


@pytest.mark.django_db
def test_forms_get_their_defaults_and_lists_are_replaced(browser, widget):
    widget.widget_appearance = {
        "dimensions": {"panel_width": 500},
        "languages": [{"code": "fr", "label": "French"}],
        "forms": [
            {"id": "book-demo", "title": "Book", "fields": [{"name": "email", "type": "email"}]},
            {
                "id": "callback",
                "title": "Call me",
                "submit_method": "PUT",
                "steps": [{"title": "Who", "fields": [{"name": "name", "required": True}]}],
            },
        ],
    }
    widget.save()
    appearance = fetch(browser).json()["widget_appearance"]
    assert appearance["dimensions"]["panel_width"] == 500
    assert appearance["dimensions"]["fab_size"] == 64
    assert appearance["languages"] == [{"code": "fr", "label": "French"}]
    demo, callback = appearance["forms"]
    assert demo["submit_url"] is None
    assert demo["submit_method"] == "POST"
    assert demo["submit_label"] == "Submit"
    assert demo["confirmation_topic"] == "voice.user_text"
    assert demo["confirmation_type"] == "book-demo_submitted"
    assert demo["layout"] == {"field_layout": "stack"}
    assert demo["disabled"] is False
    assert demo["fields"] == [
        {
            "name": "email",
            "label": "email",
            "type": "email",
            "required": False,
            "placeholder": "",
            "width": "full",
        }
    ]
    assert callback["submit_method"] == "PUT"
    assert "fields" not in callback
    assert callback["steps"][0]["fields"][0]["required"] is True
    assert callback["steps"][0]["fields"][0]["type"] == "text"


@pytest.mark.django_db
def test_nothing_private_is_exposed(browser, widget, make_character, user):
    other = make_character(user, slug="billing")
    widget.handoff_targets.add(other)
    raw = fetch(browser).content.decode()
    for private in (
        "SECRET-PROMPT-TEXT",
        "sk-SECRET-KEY-VALUE",
        user.email,
        "billing",
        "allowed_origins",
        "system_prompt",
        "llm_",
        "owner",
        "handoff",
    ):
        assert private not in raw


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db
def test_image_is_an_absolute_url_for_the_requesting_host(browser, widget, cache_backend):
    widget.image.save("avatar.png", ContentFile(png_bytes()))
    first = fetch(browser).json()["image"]
    assert first.startswith("http://testserver/media/characters/images/avatar")
    assert first.endswith(".png")
    again = fetch(browser, HTTP_HOST="localhost").json()["image"]  # from the cache
    assert again == first.replace("http://testserver", "http://localhost")


@pytest.mark.django_db
def test_no_token_needed_and_a_bad_one_is_ignored(browser, widget):
    response = fetch(browser, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 200


# The Origin gate.

ORIGIN_TABLE = [
    # allowed_origins, Origin header, allowed?
    ([ACME], ACME, True),
    ([ACME], "https://acme.com:443", True),
    ([ACME], "HTTPS://ACME.COM", True),
    (["https://acme.com/widgets"], ACME, True),
    (["https://acme.com:443/"], ACME, True),
    (["http://localhost:3000"], "http://localhost:3000", True),
    (["https://other.org", ACME], ACME, True),
    ([ACME], "https://acme.com.evil.net", False),
    ([ACME], "http://acme.com", False),
    ([ACME], "https://acme.com:8443", False),
    ([ACME], "https://staging.acme.com", False),
    ([ACME], "https://evilacme.com", False),
    ([ACME], "https://acme.com/path", False),
    ([ACME], "https://user@acme.com", False),
    ([ACME], "null", False),
    ([ACME], "", False),
    ([ACME], None, False),
    (["http://localhost:3000"], "http://localhost", False),
    (["http://localhost:3000"], "http://localhost:3001", False),
    ([], ACME, False),
    ([], None, False),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("allowed", "origin", "admitted"), ORIGIN_TABLE)
def test_origin_gate(browser, widget, allowed, origin, admitted):
    widget.allowed_origins = allowed
    widget.save()
    response = fetch(browser, origin=origin)
    if admitted:
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == origin
        assert response["Vary"] == "Origin"
        assert response.json()["slug"] == "support-bot"
    else:
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response
        assert not any(name.lower().startswith("access-control-") for name in response.headers)
        assert response["Vary"] == "Origin"
        assert set(response.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize(("allowed", "origin", "admitted"), ORIGIN_TABLE)
def test_preflight(browser, widget, allowed, origin, admitted):
    widget.allowed_origins = allowed
    widget.save()
    headers = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "GET"}
    headers["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = "x-widget-version"
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    response = browser.options(URL, **headers)
    if admitted:
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == origin
        assert "GET" in response["Access-Control-Allow-Methods"]
        assert response["Access-Control-Allow-Headers"] == "x-widget-version"
        assert "Origin" in response["Vary"]
    else:
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_debug_does_not_open_the_gate(browser, widget, settings):
    settings.DEBUG = True
    assert fetch(browser, origin="https://evil.example").status_code == 403


@pytest.mark.django_db
def test_dedicated_setting_opens_the_gate_for_local_development(browser, widget, settings):
    settings.WIDGET_ALLOW_ANY_ORIGIN = True
    widget.allowed_origins = []
    widget.save()
    response = fetch(browser, origin="http://localhost:5173")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert fetch(browser, origin=None).status_code == 200


def test_deploy_check_warns_while_the_gate_is_open(settings):
    settings.WIDGET_ALLOW_ANY_ORIGIN = False
    assert widget_origin_gate_check(None) == []
    settings.WIDGET_ALLOW_ANY_ORIGIN = True
    assert [warning.id for warning in widget_origin_gate_check(None)] == ["characters.W001"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/agents/no-such-bot/appearance/",
        "/api/agents/Support-Bot/appearance/",
        "/api/agents/support-bot/appearance",
    ],
)
def test_unknown_slug_is_a_json_404(browser, widget, url):
    response = fetch(browser, url=url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_a_json_405(browser, widget, method):
    response = getattr(browser, method)(URL, HTTP_ORIGIN=ACME)
    assert response.status_code == 405
    assert "detail" in response.json()
    assert "GET" in response["Allow"]
    widget.refresh_from_db()
    assert widget.name == "Support Bot"


# The cache.


@pytest.mark.django_db
def test_cache_hit_runs_no_query(browser, widget, cache_backend, django_assert_num_queries):
    first = fetch(browser)
    with django_assert_num_queries(0):
        hit = fetch(browser)
        refused = fetch(browser, origin="https://evil.example")
    assert hit.status_code == 200
    assert hit.content == first.content
    assert refused.status_code == 403


@pytest.mark.django_db
def test_unknown_slug_is_cached_too(browser, cache_backend, django_assert_num_queries):
    fetch(browser, url="/api/agents/ghost/appearance/")
    with django_assert_num_queries(0):
        assert fetch(browser, url="/api/agents/ghost/appearance/").status_code == 404


@pytest.mark.django_db
def test_patch_is_visible_on_the_next_fetch(
    browser, widget, auth_client, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).json()["widget_appearance"]["name"] == "Acme Support"
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            API_URL,
            {"greeting": "Hello again", "widget_appearance": {"start_button_text": "Talk"}},
        )
    assert response.status_code == 200
    body = fetch(browser).json()
    assert body["greeting"] == "Hello again"
    assert body["widget_appearance"]["start_button_text"] == "Talk"
    assert body["widget_appearance"]["name"] == "Voice Assistant"


@pytest.mark.django_db
def test_patch_of_allowed_origins_moves_the_gate(
    browser, widget, auth_client, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.patch(API_URL, {"allowed_origins": ["https://staging.acme.com"]})
    assert fetch(browser).status_code == 403
    assert fetch(browser, origin="https://staging.acme.com").status_code == 200


@pytest.mark.django_db
def test_put_is_visible_on_the_next_fetch(
    browser, widget, auth_client, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).json()["name"] == "Support Bot"
    body = {"slug": "support-bot", "name": "Renamed", "allowed_origins": [ACME]}
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.put(API_URL, body).status_code == 200
    fetched = fetch(browser).json()
    assert fetched["name"] == "Renamed"
    assert fetched["greeting"] == ""
    assert fetched["widget_appearance"]["theme"]["primary_color"] == "#6366F1"


@pytest.mark.django_db
def test_delete_is_visible_on_the_next_fetch(
    browser, widget, auth_client, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(API_URL).status_code == 204
    assert fetch(browser).status_code == 404


@pytest.mark.django_db
def test_deleting_the_owner_removes_the_widget(
    browser, widget, user, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert fetch(browser).status_code == 404


@pytest.mark.django_db
def test_admin_style_save_is_visible_on_the_next_fetch(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).json()["name"] == "Support Bot"
    with django_capture_on_commit_callbacks(execute=True):
        widget.name = "Saved in a shell"
        widget.save()
    assert fetch(browser).json()["name"] == "Saved in a shell"

    form_class = modelform_factory(Character, fields=["name", "widget_appearance"])
    form = form_class(
        data={"name": "Saved in the admin", "widget_appearance": '{"subtitle": "from a form"}'},
        instance=Character.objects.get(pk=widget.pk),
    )
    assert form.is_valid(), form.errors
    with django_capture_on_commit_callbacks(execute=True):
        form.save()
    body = fetch(browser).json()
    assert body["name"] == "Saved in the admin"
    assert body["widget_appearance"]["subtitle"] == "from a form"


@pytest.mark.django_db
def test_changed_slug_frees_the_old_one(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        widget.slug = "helpdesk"
        widget.save()
    assert fetch(browser).status_code == 404
    assert fetch(browser, url="/api/agents/helpdesk/appearance/").status_code == 200


@pytest.mark.django_db
def test_creating_a_character_replaces_a_cached_404(
    browser, user, auth_client, cache_backend, django_capture_on_commit_callbacks
):
    assert fetch(browser).status_code == 404
    body = {"slug": "support-bot", "name": "New", "allowed_origins": [ACME]}
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.post("/api/ai-characters/", body).status_code == 201
    assert fetch(browser).json()["name"] == "New"


@pytest.mark.django_db
def test_invalidation_waits_for_the_commit(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    fetch(browser)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        widget.name = "Not committed yet"
        widget.save()
    assert callbacks, "the invalidation must be deferred to the commit"
    assert fetch(browser).json()["name"] == "Support Bot"
    for callback in callbacks:
        callback()
    assert fetch(browser).json()["name"] == "Not committed yet"


@pytest.mark.django_db
def test_rolled_back_change_does_not_touch_the_cache(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    fetch(browser)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        widget.name = "Rolled back"
        widget.save()
        raise RuntimeError
    assert callbacks == []
    assert fetch(browser).json()["name"] == "Support Bot"


@pytest.mark.django_db
def test_a_fetch_racing_a_commit_cannot_cache_stale_data(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    """A reader that read the old row before the commit and writes it back after the
    invalidation must not be served afterwards."""
    fetch(browser)
    cache = appearance_cache.get_cache()
    token_seen_by_reader = cache.get(appearance_cache.token_key("support-bot"))
    stale_entry = appearance_cache.build_entry("support-bot", token_seen_by_reader)
    with django_capture_on_commit_callbacks(execute=True):
        widget.name = "Fresh"
        widget.save()
    cache.set(appearance_cache.entry_key("support-bot"), stale_entry)  # the late write
    assert fetch(browser).json()["name"] == "Fresh"


@pytest.mark.django_db
def test_an_evicted_token_is_not_mistaken_for_a_current_one(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    fetch(browser)
    cache = appearance_cache.get_cache()
    with django_capture_on_commit_callbacks(execute=True):
        widget.name = "Fresh"
        widget.save()
    cache.delete(appearance_cache.token_key("support-bot"))
    assert fetch(browser).json()["name"] == "Fresh"


@pytest.mark.django_db(transaction=True)
def test_committed_api_change_is_visible_without_help(browser, user, make_character):
    """Real commits (ATOMIC_REQUESTS) rather than captured on_commit callbacks."""
    from tests.helpers import client_for

    make_character(user, slug="support-bot", name="Before", allowed_origins=[ACME])
    assert fetch(browser).json()["name"] == "Before"
    assert client_for(user).patch(API_URL, {"name": "After"}).status_code == 200
    assert fetch(browser).json()["name"] == "After"


# Found by the fuzz stage (.ci/fuzz).


def test_unsafe_methods_on_the_widget_fetch_are_json_405_not_the_csrf_page(character):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/api/agents/{character.slug}/appearance/", HTTP_ORIGIN="https://x.y")
    assert response.status_code == 405
    assert "detail" in response.json()
