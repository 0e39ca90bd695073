"""One strict JSON parser for every JSON endpoint, public ones included (issue 28.6): each
refusal is a 400 naming the problem, the throttles count a refused body, and no value that
was accepted makes a later read fail."""

import pytest
from django.contrib.admin.utils import quote
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.parsers import JSONParser
from rest_framework.test import APIClient
from rest_framework.views import APIView

from oshara.http.json_input import StrictJSONParser
from tests.helpers import (
    ACME_ORIGIN,
    AGENT_WORKER_TEST_KEY,
    WIDGET_ORIGIN,
    report_url,
    runtime_url,
    started,
    worker_client,
)

pytestmark = pytest.mark.usefixtures("form_settings")

SESSION_START = "/api/agents/agent-session/"
KB_QUERY = "/api/knowledge-base/query/"
DEEP = "[" * 2000 + "]" * 2000


def views(patterns=None):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None)
            if view is not None and issubclass(view, APIView):
                yield entry.pattern, view


def test_every_json_endpoint_parses_with_the_strict_parser():
    checked = 0
    for pattern, view in views():
        for parser in view().get_parsers():
            if isinstance(parser, JSONParser):
                assert isinstance(parser, StrictJSONParser), (str(pattern), view, parser)
                checked += 1
    assert checked >= 15


def post_raw(client, url, body, **headers):
    return client.generic("POST", url, body, content_type="application/json", **headers)


@pytest.fixture
def endpoints(widget_character, api_client):
    """The public and the worker's JSON endpoints, each with a client that gets past its
    gate: (url, client, extra headers)."""
    session_id = started(api_client, "shop-helper")
    return {
        "session start": (SESSION_START, APIClient(), {"HTTP_ORIGIN": WIDGET_ORIGIN}),
        "report": (report_url(session_id), worker_client(), {}),
        "kb query": (KB_QUERY, client_with_kb_key(), {}),
        "login": ("/api/auth/login/", APIClient(), {}),
    }


def client_with_kb_key():
    client = APIClient()
    client.credentials(HTTP_X_API_KEY="kb-service-key-for-strict-json")
    return client


@pytest.fixture(autouse=True)
def _kb_key(settings):
    settings.KB_QUERY_API_KEY = "kb-service-key-for-strict-json"


@pytest.mark.parametrize("endpoint", ["session start", "report", "kb query", "login"])
@pytest.mark.parametrize(
    ("body", "names"),
    [
        ('{"agent": "a\\ud800"}', "surrogate"),
        ('{"q": "' + "x" * 10 + '", "\\udfff": 1}', "surrogate"),
        (DEEP, "nested deeper"),
        ('{"n": ' + "9" * 5000 + "}", "64-bit"),
        ('{"n": 1e999}', "64-bit"),
        ('{"n": -99999999999999999999}', "64-bit"),
        ('{"n": NaN}', "NaN"),
        ('{"a": 1, "b": 2, "a": 3}', 'Duplicate key "a"'),
        ('{"x": 1, "x\\u0000": 2, "x\\u0000": 3}', "Duplicate key"),
    ],
)
def test_each_refusal_is_a_400_naming_the_problem(endpoints, endpoint, body, names):
    url, client, headers = endpoints[endpoint]
    response = post_raw(client, url, body, **headers)
    assert response.status_code == 400, response.content
    assert names in str(response.json())


@pytest.mark.parametrize("endpoint", ["session start", "report", "kb query", "login"])
def test_nul_is_a_400_naming_where_it_is(endpoints, endpoint):
    url, client, headers = endpoints[endpoint]
    response = post_raw(client, url, '{"meta": {"list": ["ok", "a\\u0000b"]}}', **headers)
    assert response.status_code == 400
    assert response.json() == {"meta": {"list": {"1": ["Must not contain NUL characters."]}}}
    response = post_raw(client, url, '{"a\\u0000b": 1}', **headers)
    assert response.json() == {"a\\x00b": ["Must not contain NUL characters."]}
    assert post_raw(client, url, '"\\u0000"', **headers).json() == {
        "detail": "Must not contain NUL characters."
    }


def test_the_largest_numbers_are_accepted_and_read_back(api_client, widget_character):
    metadata = {"max": 2**63 - 1, "min": -(2**63), "big": 1e308, "tiny": 5e-324}
    session_id = started(api_client, "shop-helper", metadata=metadata)
    read = worker_client().get(runtime_url(session_id)).json()["metadata"]
    assert (read["max"], read["min"]) == (2**63 - 1, -(2**63))
    # PostgreSQL's jsonb writes 1e308 out in full digits (an integer once read): same value.
    assert (float(read["big"]), float(read["tiny"])) == (1e308, 5e-324)


# -- the throttles count a refused body --------------------------------------------------------


REFUSED = ['{"agent": "a\\ud800"}', DEEP, "{oops", '{"a": 1, "a": 1}']


@pytest.mark.parametrize("body", REFUSED)
def test_session_start_counts_a_refused_body(widget_character, settings, body):
    settings.SESSION_THROTTLE_RATE = "2/minute"
    client = APIClient()
    statuses = [
        post_raw(client, SESSION_START, body, HTTP_ORIGIN=WIDGET_ORIGIN).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    good = client.post(SESSION_START, {"agent": "shop-helper"}, HTTP_ORIGIN=WIDGET_ORIGIN)
    assert good.status_code == 429


@pytest.mark.parametrize("body", REFUSED)
def test_form_responses_count_a_refused_body(sales_session, settings, body):
    settings.FORM_RESPONSE_THROTTLE_RATE = "2/minute"
    url = "/api/agents/sales-agent/form-responses/"
    client = APIClient()
    statuses = [post_raw(client, url, body, HTTP_ORIGIN=ACME_ORIGIN).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.parametrize("body", REFUSED)
def test_log_in_counts_a_refused_body(db, settings, body):
    settings.AUTH_THROTTLE_RATE = "2/minute"
    client = APIClient()
    statuses = [post_raw(client, "/api/auth/login/", body).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


@pytest.mark.parametrize("body", REFUSED)
def test_the_worker_and_kb_query_count_a_refused_body(endpoints, settings, body):
    settings.API_THROTTLE_RATE = "2/minute"
    settings.KB_QUERY_KEY_THROTTLE_RATE = "2/minute"
    for name in ("report", "kb query"):
        url, client, _ = endpoints[name]
        statuses = [post_raw(client, url, body).status_code for _ in range(3)]
        assert statuses == [400, 400, 429], name


# -- no accepted value breaks a later read ------------------------------------------------------


def test_what_a_session_and_its_report_accepted_every_page_reads(
    api_client, auth_client, widget_character, admin_client
):
    exotic = (
        "emoji 😀, RTL \u202e, BOM \ufeff, max \U0010ffff, astral \U0001d54f, \ufffd, \\u0000 text"
    )
    session_id = started(
        api_client,
        "shop-helper",
        metadata={exotic: exotic, "nested": [{"n": 2**63 - 1}]},
        origin_url="https://shop.example.com/p?q=" + "😀",
    )
    report = {
        "usage": {"turn_count": 2, "llm_input_tokens": 10**9},
        "transcript": [
            {"role": "user", "text": exotic, "turn_index": 0, "ts": 1764590000.5},
            {"role": "assistant", "text": exotic * 100, "turn_index": 1},
        ],
    }
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=AGENT_WORKER_TEST_KEY)
    assert client.get(runtime_url(session_id)).status_code == 200
    assert client.post(report_url(session_id), report).status_code == 200
    detail = auth_client.get(f"/api/billing/sessions/{session_id}/")
    assert detail.status_code == 200
    assert detail.json()["data"]["transcript"][0]["text"] == exotic
    assert auth_client.get("/api/billing/usage/").status_code == 200
    admin_pages = [
        reverse("admin:calls_callsession_change", args=[quote(session_id)]),
        reverse("admin:calls_callsession_changelist"),
    ]
    for page in admin_pages:
        assert admin_client.get(page).status_code == 200, page
