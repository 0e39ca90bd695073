"""The character serializer's part for `tools` and `mcp_servers`: checks across fields."""

from rest_framework import serializers

from characters.schemas import integrations, masking


class ToolIntegrationsMixin:
    """For the character serializer: unique names, masked headers kept, references checked."""

    def validate_tools(self, value):
        return self._validated_list(value, "tools", masking.tool_headers, masking.tool_url, "tool")

    def validate_mcp_servers(self, value):
        return self._validated_list(
            value, "mcp_servers", masking.server_headers, masking.server_url, "MCP server"
        )

    def _validated_list(self, items, field_name, headers_of, url_of, what):
        stored = getattr(self.instance, field_name) if self.instance is not None else []
        errors = integrations.duplicate_name_errors(items, what)
        mask_errors = masking.keep_masked_headers(items, stored, headers_of, url_of)
        for item_errors, header_errors in zip(errors, mask_errors, strict=True):
            if header_errors:
                headers_errors = {name: [message] for name, message in header_errors.items()}
                if field_name == "tools":
                    item_errors["config"] = {"headers": headers_errors}
                else:
                    item_errors["headers"] = headers_errors
        if any(errors):
            # Keyed by index, the shape of DRF's own errors for a list of objects.
            raise serializers.ValidationError(
                {index: item_errors for index, item_errors in enumerate(errors) if item_errors}
            )
        return items

    def validate(self, attrs):
        attrs = super().validate(attrs)
        tools = self._value_after_save(attrs, "tools", [])
        servers = self._value_after_save(attrs, "mcp_servers", [])
        appearance = self._value_after_save(attrs, "widget_appearance", {})
        problems = integrations.reference_problems(tools, servers, appearance)
        if problems:
            raise serializers.ValidationError(self._reference_errors(attrs, problems))
        return attrs

    def _value_after_save(self, attrs, name, default):
        """What the field will hold once saved (PUT resets an omitted field to its default)."""
        if name in attrs:
            return attrs[name]
        if self.instance is not None and self.partial:
            return getattr(self.instance, name)
        return default

    @staticmethod
    def _reference_errors(attrs, problems):
        """Report each problem on the field the request changed, as a nested path."""
        tool_errors = {}
        server_errors, form_errors = [], {}
        for problem in problems:
            if isinstance(problem, integrations.MissingServer):
                if "mcp_servers" in attrs and "tools" not in attrs:
                    server_errors.append(integrations.server_in_use_message(problem))
                else:
                    tool = tool_errors.setdefault(problem.tool_index, {})
                    config = tool.setdefault("config", {})
                    config["server_name"] = [integrations.missing_server_message(problem)]
            elif "widget_appearance" in attrs and "tools" not in attrs:
                form_errors[problem.form_index] = {
                    "id": [integrations.form_collision_message(problem)]
                }
            else:
                tool_errors.setdefault(problem.tool_index, {})["name"] = [
                    integrations.tool_collision_message(problem)
                ]
        errors = {}
        if tool_errors:
            errors["tools"] = tool_errors
        if server_errors:
            errors["mcp_servers"] = server_errors
        if form_errors:
            errors["widget_appearance"] = {"forms": form_errors}
        return errors
