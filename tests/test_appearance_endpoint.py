"""GET /api/agents/{slug}/appearance/: the widget's public, Origin-gated, cached fetch."""

import uuid

import pytest
from django.db import transaction
from django.forms import modelform_factory
from django.test import Client

from characters.models import Character
from characters.widget import cache as appearance_cache
from characters.widget.checks import widget_origin_gate_check
from tests.helpers import use_redis_cache

ACME = "https://acme.com"
URL = "/api/agents/support-bot/appearance/"
API_URL = "/api/ai-characters/support-bot/"


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
        use_redis_cache(settings)
    return request.param


# The payload itself: tests/test_widget_payload.py.


def renamed(character, name):
    """Save `character` with a new appearance name (what the fetch shows as `name`)."""
    character.widget_appearance = {**character.widget_appearance, "name": name}
    character.save()


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
        assert response.json()["name"] == "Acme Support"
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
    assert fetch(browser).json()["name"] == "Acme Support"
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            API_URL, {"widget_appearance": {"start_button_text": "Talk"}}, format="json"
        )
    assert response.status_code == 200
    body = fetch(browser).json()
    assert body["start_button_text"] == "Talk"
    assert body["name"] == "Voice Assistant"


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
    assert fetch(browser).json()["name"] == "Acme Support"
    body = {"slug": "support-bot", "name": "Renamed", "allowed_origins": [ACME]}
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.put(API_URL, body).status_code == 200
    fetched = fetch(browser).json()
    assert fetched["name"] == "Voice Assistant"  # PUT reset the appearance
    assert fetched["theme"]["primary_color"] == "#6366F1"


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
    assert fetch(browser).json()["name"] == "Acme Support"
    with django_capture_on_commit_callbacks(execute=True):
        renamed(widget, "Saved in a shell")
    assert fetch(browser).json()["name"] == "Saved in a shell"

    form_class = modelform_factory(Character, fields=["name", "widget_appearance"])
    form = form_class(
        data={
            "name": "Support Bot",
            "widget_appearance": '{"name": "Saved in the admin", "subtitle": "from a form"}',
        },
        instance=Character.objects.get(pk=widget.pk),
    )
    assert form.is_valid(), form.errors
    with django_capture_on_commit_callbacks(execute=True):
        form.save()
    body = fetch(browser).json()
    assert body["name"] == "Saved in the admin"
    assert body["subtitle"] == "from a form"


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
    body = {
        "slug": "support-bot",
        "name": "Support Bot",
        "allowed_origins": [ACME],
        "widget_appearance": {"name": "New"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.post("/api/ai-characters/", body, format="json").status_code == 201
    assert fetch(browser).json()["name"] == "New"


@pytest.mark.django_db
def test_invalidation_waits_for_the_commit(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    fetch(browser)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        renamed(widget, "Not committed yet")
    assert callbacks, "the invalidation must be deferred to the commit"
    assert fetch(browser).json()["name"] == "Acme Support"
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
        renamed(widget, "Rolled back")
        raise RuntimeError
    assert callbacks == []
    assert fetch(browser).json()["name"] == "Acme Support"


@pytest.mark.django_db
def test_a_fetch_racing_a_commit_cannot_cache_stale_data(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    """A reader that read the old row before the commit and writes it back after the
    invalidation must not be served afterwards."""
    fetch(browser)
    cache = appearance_cache.get_cache()
    token_seen_by_reader = cache.get(appearance_cache.token_key("support-bot"))
    stale_entry = appearance_cache.APPEARANCE.build_entry("support-bot", token_seen_by_reader)
    with django_capture_on_commit_callbacks(execute=True):
        renamed(widget, "Fresh")
    cache.set(appearance_cache.APPEARANCE.entry_key("support-bot"), stale_entry)  # the late write
    assert fetch(browser).json()["name"] == "Fresh"


@pytest.mark.django_db
def test_an_evicted_token_is_not_mistaken_for_a_current_one(
    browser, widget, cache_backend, django_capture_on_commit_callbacks
):
    fetch(browser)
    cache = appearance_cache.get_cache()
    with django_capture_on_commit_callbacks(execute=True):
        renamed(widget, "Fresh")
    cache.delete(appearance_cache.token_key("support-bot"))
    assert fetch(browser).json()["name"] == "Fresh"


@pytest.mark.django_db(transaction=True)
def test_committed_api_change_is_visible_without_help(browser, user, make_character):
    """Real commits (ATOMIC_REQUESTS) rather than captured on_commit callbacks."""
    from tests.helpers import client_for

    make_character(
        user, slug="support-bot", allowed_origins=[ACME], widget_appearance={"name": "Before"}
    )
    assert fetch(browser).json()["name"] == "Before"
    response = client_for(user).patch(
        API_URL, {"widget_appearance": {"name": "After"}}, format="json"
    )
    assert response.status_code == 200
    assert fetch(browser).json()["name"] == "After"


# Found by the fuzz stage (.ci/fuzz).


def test_unsafe_methods_on_the_widget_fetch_are_json_405_not_the_csrf_page(character):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/api/agents/{character.slug}/appearance/", HTTP_ORIGIN="https://x.y")
    assert response.status_code == 405
    assert "detail" in response.json()
