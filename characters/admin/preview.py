"""The live widget preview on the character's page, drawn in the browser by
static/characters/admin/widget_preview.js from the appearance being edited."""

import json

from django.utils.html import format_html

from characters.widget.defaults import DEFAULT_APPEARANCE, DEFAULT_FORM, DEFAULT_FORM_FIELD

# What the preview merges the edited appearance over: the widget's own defaults.
PREVIEW_DEFAULTS = json.dumps(
    {"appearance": DEFAULT_APPEARANCE, "form": DEFAULT_FORM, "form_field": DEFAULT_FORM_FIELD}
)


def widget_preview_html(character):
    """The preview's container: the defaults, and the avatar and greeting of the character
    (None on the add page). The script reads the editor's textarea, saved or not."""
    return format_html(
        '<div class="widget-preview" data-widget-preview data-source="id_widget_appearance" '
        'data-defaults="{}" data-avatar="{}" data-greeting="{}"></div>'
        '<p class="wp-note" role="status"></p>',
        PREVIEW_DEFAULTS,
        character.image.url if character is not None and character.image else "",
        character.greeting if character is not None else "",
    )
