"""A submission's `values`, checked against the form's own fields; every bad input a 4xx."""

import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from calls.models import FormResponse
from tests.helpers import ACME_ORIGIN, start_call, submit_form

pytestmark = pytest.mark.usefixtures("form_settings")

FIELDS = [
    {"name": "name", "type": "text", "required": True, "max": 40},
    {"name": "email", "type": "email", "required": True},
    {"name": "phone", "type": "tel", "pattern": r"\+?[0-9 ]{6,20}"},
    {"name": "seats", "type": "number", "min": 1, "max": 500},
    {"name": "site", "type": "url"},
    {"name": "day", "type": "date", "min": "2025-01-01", "max": "2030-12-31"},
    {"name": "at", "type": "time", "min": "08:00", "max": "18:00"},
    {"name": "terms", "type": "checkbox", "required": True},
    {"name": "news", "type": "checkbox"},
    {"name": "topics", "type": "checkbox", "options": ["voice", "chat"]},
    {"name": "plan", "type": "select", "options": [{"value": "pro", "label": "Pro"}, "team"]},
    {"name": "size", "type": "radio", "options": ["s", "m", "l"]},
    {"name": "notes", "type": "textarea"},
    {"name": "code", "type": "text", "pattern": "(a|aa)+"},
]
LEAD = {
    "id": "lead",
    "title": "Tell us more",
    "steps": [
        {"title": "You", "fields": FIELDS[:3]},
        {"title": "Your needs", "fields": FIELDS[3:]},
    ],
}
GOOD = {
    "name": "Ada",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "seats": 12,
    "site": "https://ada.example",
    "day": "2026-03-01",
    "at": "09:30",
    "terms": True,
    "news": False,
    "topics": ["voice"],
    "plan": "pro",
    "size": "m",
    "notes": "Line one\nLine two",
    "code": "aaa",
}


@pytest.fixture
def lead_form(auth_client, sales_agent):
    forms = [
        *sales_agent.widget_appearance["forms"],
        LEAD,
        {"id": "off", "title": "Off", "disabled": True, "fields": [{"name": "x"}]},
        {
            "id": "crm",
            "title": "CRM",
            "submit_url": "https://crm.acme.com/leads",
            "fields": [{"name": "x"}],
        },
        {"id": "local", "title": "Local", "submit_url": "/leads", "fields": [{"name": "x"}]},
    ]
    response = auth_client.patch(
        "/api/ai-characters/sales-agent/",
        {"widget_appearance": {**sales_agent.widget_appearance, "forms": forms}},
        format="json",
    )
    assert response.status_code == 200, response.content


def submit(client, session_id, values, form_id="lead"):
    return submit_form(client, {"form_id": form_id, "session_id": session_id, "values": values})


def value_errors(response):
    assert response.status_code == 400, response.content
    assert not FormResponse.objects.exists()
    return response.json()["values"]


def test_every_field_type_of_a_stepped_form_is_accepted(api_client, sales_session, lead_form):
    response = submit(api_client, sales_session, GOOD)
    assert response.status_code == 201, response.content
    assert response.json()["values"] == GOOD
    assert FormResponse.objects.get().values == GOOD


def test_optional_fields_may_be_left_out_or_empty(api_client, sales_session, lead_form):
    values = {"name": "Ada", "email": "ada@example.com", "terms": True, "phone": "", "seats": None}
    assert submit(api_client, sales_session, values).status_code == 201


def test_required_fields_of_every_step(api_client, sales_session, lead_form):
    errors = value_errors(submit(api_client, sales_session, {"news": True}))
    assert errors["name"] == ["This field is required."]
    assert errors["email"] == ["This field is required."]
    assert errors["terms"] == ["This box must be checked."]
    assert set(errors) == {"name", "email", "terms"}


def test_a_required_checkbox_must_be_checked(api_client, sales_session, lead_form):
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "terms": False}))
    assert errors == {"terms": ["This box must be checked."]}


def test_unknown_names_are_refused(api_client, sales_session, lead_form):
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "nmae": "Ada"}))
    assert errors == {"nmae": ["Unknown field."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 42),
        ("name", ["Ada"]),
        ("name", {"first": "Ada"}),
        ("name", True),
        ("name", "x" * 41),
        ("email", "not-an-email"),
        ("email", 7),
        ("phone", "call me"),
        ("seats", "12"),
        ("seats", True),
        ("seats", 0),
        ("seats", 501),
        ("seats", [1]),
        ("site", "javascript:alert(1)"),
        ("site", "ada.example"),
        ("day", "01/03/2026"),
        ("day", "2026-02-30"),
        ("day", "20260301"),
        ("day", "2024-12-31"),
        ("at", "9:30"),
        ("at", "07:59"),
        ("at", "25:00"),
        ("terms", "true"),
        ("terms", 1),
        ("news", "yes"),
        ("topics", "voice"),
        ("topics", ["sms"]),
        ("topics", ["voice", "voice"]),
        ("topics", [1]),
        ("plan", "enterprise"),
        ("plan", "Pro"),
        ("plan", ["pro"]),
        ("size", "xl"),
        ("notes", "x" * 10_001),
        ("code", "aab"),
    ],
)
def test_a_wrong_value_is_a_400_naming_its_field(
    api_client, sales_session, lead_form, field, value
):
    errors = value_errors(submit(api_client, sales_session, {**GOOD, field: value}))
    assert set(errors) == {field}
    assert all(isinstance(message, str) and message for message in errors[field])


def test_nul_bytes_are_refused_everywhere(api_client, sales_session, lead_form):
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "notes": "a\x00b"}))
    assert errors == {"notes": ["Must not contain NUL characters."]}
    # The strict JSON parser refuses it first, naming the key (escaped) under `values`.
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "na\x00me": "x"}))
    assert errors == {"na\\x00me": ["Must not contain NUL characters."]}
    response = submit_form(
        api_client, {"form_id": "le\x00ad", "session_id": sales_session, "values": GOOD}
    )
    assert response.status_code == 400 and "form_id" in response.json()
    response = submit_form(
        api_client, {"form_id": "lead", "session_id": sales_session + "\x00", "values": GOOD}
    )
    assert response.status_code == 400 and "session_id" in response.json()
    response = api_client.get(
        "/api/agents/sales-agent/form-responses/", {"form_id": "a\x00"}, HTTP_ORIGIN=ACME_ORIGIN
    )
    assert response.status_code in (400, 401)


def test_an_exponential_pattern_on_a_long_value_is_a_quick_400(
    api_client, sales_session, lead_form
):
    """`(a|aa)+` on "aaaa…b" backtracks exponentially: the budget stops it, nothing hangs."""
    started = time.monotonic()
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "code": "a" * 60 + "b"}))
    assert time.monotonic() - started < 5
    assert errors == {"code": ["This value could not be checked against the field's pattern."]}
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "code": "a" * 5000}))
    assert "at most 1000 characters" in errors["code"][0]


def test_the_pattern_must_match_in_full(api_client, sales_session, lead_form):
    errors = value_errors(submit(api_client, sales_session, {**GOOD, "phone": "+44 20 x"}))
    assert errors == {"phone": ["Does not match the expected format."]}


@pytest.mark.parametrize(
    "body",
    [
        [],
        "lead",
        {"form_id": "lead", "session_id": "s"},
        {"form_id": 1, "session_id": "s", "values": {}},
        {"form_id": "lead", "session_id": ["s"], "values": {}},
        {"form_id": "lead", "session_id": "s", "values": ["Ada"]},
        {"form_id": "lead", "session_id": "s", "values": "Ada"},
        {"form_id": "lead", "session_id": "s", "values": None},
        {"form_id": "lead", "session_id": "s", "values": {}, "extra": 1},
    ],
)
def test_wrong_json_types_in_the_body_are_400(api_client, sales_session, lead_form, body):
    response = submit_form(api_client, body)
    assert response.status_code == 400, response.content
    assert not FormResponse.objects.exists()


def test_a_body_naming_each_problem(api_client, sales_session, lead_form):
    body = submit_form(api_client, {"form_id": 1, "session_id": [], "values": []}).json()
    assert set(body) == {"form_id", "session_id", "values"}
    assert submit_form(api_client, {"form_id": "lead", "x": 1}).json() == {"x": ["Unknown field."]}


@pytest.mark.parametrize(
    ("form_id", "message"),
    [
        ("off", "This form is disabled."),
        ("crm", "this form posts to its own URL"),
        ("local", "this form posts to its own URL"),
        ("nope", "This character has no form with this id."),
    ],
)
def test_forms_that_are_not_stored_here(api_client, sales_session, lead_form, form_id, message):
    response = submit(api_client, sales_session, {"x": "1"}, form_id=form_id)
    assert response.status_code == 400
    assert message in response.json()["form_id"][0]


def test_a_form_of_another_character(api_client, auth_client, sales_session, make_character, user):
    make_character(
        user,
        slug="other-agent",
        allowed_origins=[ACME_ORIGIN],
        widget_appearance={"forms": [{"id": "quote", "title": "Quote", "fields": [{"name": "x"}]}]},
    )
    response = submit(api_client, sales_session, {"x": "1"}, form_id="quote")
    assert response.status_code == 400
    assert response.json()["form_id"] == ["This character has no form with this id."]


def test_a_session_of_another_character(api_client, sales_session, make_character, user):
    make_character(user, slug="other-agent", allowed_origins=[ACME_ORIGIN])
    other = start_call(APIClient(), agent="other-agent", origin=ACME_ORIGIN).json()["session_id"]
    body = {"form_id": "book-demo", "session_id": other, "values": {"name": "A", "email": "a@b.co"}}
    response = submit_form(api_client, body)
    assert response.status_code == 400
    assert response.json() == {"session_id": ["This character has no session with this id."]}
    unknown = {**body, "session_id": "sess_" + "0" * 32}
    assert submit_form(api_client, unknown).json() == response.json()
    assert submit_form(api_client, {**body, "session_id": "not-a-session"}).status_code == 400


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=8,
)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from([field["name"] for field in FIELDS]) | st.text(max_size=8),
        JSON_VALUES,
        max_size=6,
    )
)
def test_arbitrary_values_are_stored_or_refused_never_a_500(
    api_client, sales_session, lead_form, values
):
    response = submit(api_client, sales_session, {**GOOD, **values})
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert set(response.json()) == {"values"}


def test_the_pattern_budget_comes_from_settings(api_client, sales_session, lead_form, settings):
    settings.FORM_PATTERN_TIMEOUT_SECONDS = 0
    errors = value_errors(submit(api_client, sales_session, GOOD))
    assert set(errors) == {"phone", "code"}
