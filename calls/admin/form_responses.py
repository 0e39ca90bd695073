"""Operators' view of form responses: per character and form, searchable, CSV export.

A response is visitor-controlled text. Every value is shown through Django's escaping
(format_html), and the CSV export is plain text whose cells cannot start a spreadsheet
formula.
"""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from calls.models import FormResponse

SUMMARY_FIELDS = 3
SUMMARY_LENGTH = 80
# A cell starting with one of these is read as a formula (or a DDE command, `|`) by some
# spreadsheet program: `;` is a separator some locales import, a zero-width character or a
# newline can hide a formula start that a program strips before parsing.
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "|",
    ";",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    *(f"\n{start}" for start in "=+-@"),
)
CSV_COLUMNS = ["id", "character", "form_id", "form_title", "session_id", "origin", "created_at"]


def as_text(value):
    """A value as one line of text: lists joined, booleans as JSON spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(as_text(item) for item in value)
    return "" if value is None else str(value)


def csv_cell(value):
    """Plain text that a spreadsheet shows as text: formula starts get a leading quote."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = as_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@admin.register(FormResponse)
class FormResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "character", "form_id", "session_key", "created_at", "summary"]
    list_filter = [("character", admin.RelatedOnlyFieldListFilter), "form_id", "created_at"]
    list_select_related = ["character"]
    search_fields = ["id", "form_id", "form_title", "session_key", "character__slug", "values"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    fields = [
        "id",
        "character",
        "form_id",
        "form_title",
        "session",
        "session_key",
        "origin",
        "created_at",
        "readable_values",
    ]
    readonly_fields = ["readable_values"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what was submitted stays as it was (deleting one is allowed)

    @admin.display(description="Values")
    def summary(self, response):
        pairs = list((response.values or {}).items())[:SUMMARY_FIELDS]
        text = ", ".join(f"{name}: {as_text(value)}" for name, value in pairs)
        return Truncator(text).chars(SUMMARY_LENGTH) or "-"

    @admin.display(description="Values")
    def readable_values(self, response):
        if not response.values:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td style='white-space:pre-wrap'>{}</td></tr>",
            ((name, as_text(value)) for name, value in response.values.items()),
        )
        return format_html(
            "<table><thead><tr><th>Field</th><th>Value</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Export selected responses as CSV")
    def export_csv(self, request, queryset):
        responses = list(queryset.select_related("character").order_by("-created_at", "-id"))
        names = list(dict.fromkeys(name for r in responses for name in (r.values or {})))
        output = HttpResponse(content_type="text/csv; charset=utf-8")
        output["Content-Disposition"] = 'attachment; filename="form-responses.csv"'
        writer = csv.writer(output)
        writer.writerow([*CSV_COLUMNS, *(csv_cell(name) for name in names)])
        for response in responses:
            fixed = [
                response.id,
                response.character.slug,
                response.form_id,
                response.form_title,
                response.session_key,
                response.origin,
                response.created_at.isoformat(),
            ]
            values = response.values or {}
            writer.writerow(
                [*(csv_cell(cell) for cell in fixed), *(csv_cell(values.get(n)) for n in names)]
            )
        return output
