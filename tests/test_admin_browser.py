"""The admin as an operator uses it, in a real browser (Debian's chromium, tests/browser.py):
log in, edit a theme colour and a form field through the structured editor, watch the preview
follow before saving, save, and read the change back through the API.

Screenshots of the character page and of the preview are written to $ADMIN_SCREENSHOTS_DIR
(CI keeps them as artifacts; docs/admin.md shows committed copies), by default to the test's
temporary folder.
"""

import json
import os
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from characters.models import Character
from tests.browser import CHROMIUM, Browser
from tests.helpers import PASSWORD, client_for
from tests.reference import SALES_AGENT

# Inside this branch's port range.
ADMIN_PORT = 8260
HEADER_SECRET = "hdr-secret-browser-5c0e"
COLOUR = "#1d4ed8"

pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"no browser at {CHROMIUM}: .ci/run installs Debian's chromium",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def admin_server(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    server = LiveServer(f"127.0.0.1:{ADMIN_PORT}")
    yield server.url
    server.stop()


@pytest.fixture
def screenshots(tmp_path):
    folder = Path(os.environ.get("ADMIN_SCREENSHOTS_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser(tmp_path):
    browser = Browser(tmp_path / "profile", width=1280, height=1000)
    yield browser
    browser.close()


def type_into(browser, selector, value):
    """Set an input's value the way typing does, so React (django-jsonform) sees it."""
    browser.evaluate(
        f"""(() => {{
        const input = document.querySelector({json.dumps(selector)});
        const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
        setter.call(input, {json.dumps(value)});
        input.dispatchEvent(new Event("input", {{bubbles: true}}));
        input.dispatchEvent(new Event("change", {{bubbles: true}}));
        }})()"""
    )


def log_in(browser, base, email):
    browser.goto(f"{base}/admin/login/?next=/admin/")
    browser.evaluate(
        f"document.querySelector('#id_username').value = {json.dumps(email)};"
        f"document.querySelector('#id_password').value = {json.dumps(PASSWORD)};"
    )
    browser.submit_and_wait("#login-form")
    assert browser.evaluate("location.pathname") == "/admin/"


def test_operator_edits_the_appearance_in_the_structured_editor(
    admin_server, browser, screenshots, make_user
):
    operator = make_user("operator@example.com", is_staff=True, is_superuser=True)
    appearance = SALES_AGENT["widget_appearance"]
    character = Character.objects.create(
        owner=operator,
        slug="sales-agent",
        name="Sales Assistant",
        greeting="Hi! Want a demo?",
        widget_appearance=appearance,
        tools=[
            {
                "name": "create_ticket",
                "kind": "http",
                "config": {"url": "https://api.acme.com/t", "headers": {"X-Key": HEADER_SECRET}},
            },
            {"name": "show_offer", "kind": "client_event", "config": {"topic": "acme.offer"}},
        ],
    )
    log_in(browser, admin_server, operator.email)

    # "View site" leads to the API docs; the list's columns fit the page.
    assert browser.evaluate("document.querySelector('#user-tools a').getAttribute('href')") == (
        "/api/docs/"
    )
    browser.goto(f"{admin_server}/admin/characters/character/")
    assert browser.evaluate(
        "(() => { const r = document.querySelector('#changelist .results');"
        " return r.scrollWidth <= r.clientWidth; })()"
    )

    browser.goto(f"{admin_server}/admin/characters/character/{character.pk}/change/")
    colour = 'input[name="rjf§theme§primary_color"]'
    label = 'input[name="rjf§forms§0§fields§0§label"]'
    browser.wait_for(f"!!document.querySelector({json.dumps(label)})")
    assert browser.evaluate(f"document.querySelector({json.dumps(colour)}).type") == "color"
    # The http tool's header is a masked row; the secret is nowhere in the page.
    assert HEADER_SECRET not in browser.evaluate("document.documentElement.outerHTML")
    assert browser.evaluate(
        "document.querySelector('input[name=\"rjf§0§config§headers§X-Key\"]').type"
    ) == ("password")
    browser.evaluate(
        "document.querySelector('.field-widget_preview').closest('fieldset').scrollIntoView()"
    )
    browser.screenshot(screenshots / "admin-character.png")

    type_into(browser, colour, COLOUR)
    type_into(browser, label, "Full name")
    # The preview follows the editor before anything is saved.
    browser.wait_for(
        "document.querySelector('.wp-header').style.background.includes('rgb(29, 78, 216)')"
    )
    assert browser.evaluate("document.querySelector('.wp-form .wp-field-label').textContent") == (
        "Full name *"
    )
    character.refresh_from_db()
    assert character.widget_appearance == appearance
    browser.evaluate("document.querySelector('.field-widget_preview').scrollIntoView()")
    browser.screenshot(screenshots / "admin-widget-preview.png", ".field-widget_preview")

    browser.submit_and_wait("#character_form")
    assert browser.evaluate("location.pathname") == "/admin/characters/character/"
    assert browser.evaluate("!!document.querySelector('.messagelist .success')")

    body = client_for(operator).get(f"/api/ai-characters/{character.slug}/").json()
    expected = json.loads(json.dumps(appearance))
    expected["theme"]["primary_color"] = COLOUR
    expected["forms"][0]["fields"][0]["label"] = "Full name"
    # Exactly the two edits: nothing the editor drew for empty keys was stored.
    assert body["widget_appearance"] == expected
    character.refresh_from_db()
    assert character.tools[0]["config"]["headers"] == {"X-Key": HEADER_SECRET}

    # The raw JSON, one click away, and back to the editor.
    browser.goto(f"{admin_server}/admin/characters/character/{character.pk}/change/")
    browser.wait_for(f"!!document.querySelector({json.dumps(label)})")
    toggle = "document.querySelector('.field-widget_appearance [data-structured-json-toggle]')"
    raw = "document.querySelector('#id_widget_appearance')"
    browser.evaluate(f"{toggle}.click()")
    assert browser.evaluate(f"getComputedStyle({raw}).display") == "block"
    assert json.loads(browser.evaluate(f"{raw}.value"))["theme"]["primary_color"] == COLOUR
    assert browser.evaluate(f"{toggle}.textContent") == "Structured editor"
    browser.evaluate(f"{toggle}.click()")
    assert browser.evaluate(f"getComputedStyle({raw}).display") == "none"
    browser.wait_for(f"document.querySelector({json.dumps(label)}).value === 'Full name'")
