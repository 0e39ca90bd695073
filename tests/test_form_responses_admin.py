"""The operators' admin for form responses: per character and form, search, safe rendering,
CSV export with a formula guard."""

import csv
import io

import pytest
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.urls import reverse

from calls.models import FormResponse
from tests.helpers import submit_form

pytestmark = pytest.mark.usefixtures("form_settings")

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
CHANGELIST = reverse("admin:calls_formresponse_changelist")


@pytest.fixture
def hostile_response(api_client, sales_session):
    body = {
        "form_id": "book-demo",
        "session_id": sales_session,
        "values": {"name": SCRIPT + BREAKOUT, "email": "ada@example.com"},
    }
    response = submit_form(api_client, body)
    assert response.status_code == 201, response.content
    return FormResponse.objects.get(pk=response.json()["id"])


def change_url(response):
    # As the admin links it: a pk such as "fr_26…" would otherwise read as an escape (_26 = &).
    return reverse("admin:calls_formresponse_change", args=[quote(response.pk)])


def assert_escaped(html):
    assert SCRIPT not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_markup_in_values_is_escaped_on_the_list(admin_client, hostile_response):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_markup_in_values_is_escaped_on_the_change_page(admin_client, hostile_response):
    url = change_url(hostile_response)
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html)
    assert "ada@example.com" in html and "book-demo" in html


def test_search_and_filters(admin_client, api_client, hostile_response, sales_session):
    other = {"form_id": "book-demo", "session_id": sales_session}
    grace = submit_form(
        api_client, {**other, "values": {"name": "Grace", "email": "grace@navy.mil"}}
    ).json()["id"]
    found = admin_client.get(CHANGELIST, {"q": "grace@navy"}).content.decode()
    assert grace in found and hostile_response.pk not in found
    by_form = admin_client.get(CHANGELIST, {"form_id": "book-demo"}).content.decode()
    assert hostile_response.pk in by_form
    by_character = admin_client.get(
        CHANGELIST, {"character__id__exact": str(hostile_response.character_id)}
    )
    assert hostile_response.pk in by_character.content.decode()


def test_csv_export_is_plain_text_with_a_formula_guard(
    admin_client, api_client, hostile_response, sales_session
):
    values = {"name": '=HYPERLINK("https://evil","x")', "email": "ada@example.com"}
    submit_form(api_client, {"form_id": "book-demo", "session_id": sales_session, "values": values})
    for start in ("+1+1", "-2+3", "@SUM(A1)"):
        body = {"form_id": "book-demo", "session_id": sales_session}
        submit_form(api_client, {**body, "values": {"name": start, "email": "b@example.com"}})
    response = admin_client.post(
        CHANGELIST,
        {
            "action": "export_csv",
            helpers.ACTION_CHECKBOX_NAME: list(FormResponse.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    names = {row["name"] for row in rows}
    assert '\'=HYPERLINK("https://evil","x")' in names
    assert {"'+1+1", "'-2+3", "'@SUM(A1)"} <= names
    # Plain text: the markup is there as typed (no HTML in a CSV), never a formula.
    assert SCRIPT + BREAKOUT in names
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert {row["form_id"] for row in rows} == {"book-demo"}
    assert {row["character"] for row in rows} == {"sales-agent"}


@pytest.mark.parametrize(
    "start",
    [
        "|cmd",
        ";=1+1",
        "\u200b=1+1",
        "\u200c=1+1",
        "\u200d=1+1",
        "\u2060=1+1",
        "\ufeff=1+1",
        "\n=1+1",
        "\n+1",
        "\n-1",
        "\n@SUM(A1)",
    ],
)
def test_csv_export_also_guards_hidden_formula_starts(
    admin_client, api_client, sales_session, start
):
    body = {"form_id": "book-demo", "session_id": sales_session}
    response = submit_form(api_client, {**body, "values": {"name": start, "email": "a@b.com"}})
    assert response.status_code == 201, response.content
    exported = admin_client.post(
        CHANGELIST,
        {
            "action": "export_csv",
            helpers.ACTION_CHECKBOX_NAME: list(FormResponse.objects.values_list("pk", flat=True)),
        },
    )
    [row] = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert row["name"] == "'" + start


def test_responses_are_read_only_in_the_admin(admin_client, hostile_response):
    url = change_url(hostile_response)
    admin_client.post(url, {"form_id": "changed"})
    hostile_response.refresh_from_db()
    assert hostile_response.form_id == "book-demo"
    assert admin_client.get(reverse("admin:calls_formresponse_add")).status_code == 403


def test_the_list_links_every_id_to_its_page(admin_client, hostile_response):
    """Ids like "fr_26…" contain what the admin's URL quoting reads as escapes (_26 is &)."""
    FormResponse.objects.filter(pk=hostile_response.pk).update(id="fr_26" + "0" * 30)
    html = admin_client.get(CHANGELIST).content.decode()
    link = change_url(FormResponse.objects.get())
    assert f'href="{link}"' in html
    assert admin_client.get(link).status_code == 200
