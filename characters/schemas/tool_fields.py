"""Model fields for `tools` and `mcp_servers`: encrypted at rest, header values masked in forms.

Their form field (the admin's) never renders a header value; what comes back masked is
swapped for the stored value by Character.clean() (see characters/schemas/integrations.py).
"""

from django import forms

from characters.crypto import EncryptedJSONField
from characters.schemas import masking


class MaskedHeadersJSONFormField(forms.JSONField):
    """JSON whose header values are shown as MASK, so the page never holds a secret."""

    def __init__(self, *, headers_of, **kwargs):
        self.headers_of = headers_of
        super().__init__(**kwargs)

    def masked(self, value):
        return masking.mask_headers(value, self.headers_of) if isinstance(value, list) else value

    def prepare_value(self, value):
        return super().prepare_value(self.masked(value))

    def has_changed(self, initial, data):
        return super().has_changed(self.masked(initial), data)


class ToolsField(EncryptedJSONField):
    def formfield(self, **kwargs):
        return super().formfield(
            form_class=MaskedHeadersJSONFormField, headers_of=masking.tool_headers, **kwargs
        )


class McpServersField(EncryptedJSONField):
    def formfield(self, **kwargs):
        return super().formfield(
            form_class=MaskedHeadersJSONFormField, headers_of=masking.server_headers, **kwargs
        )
