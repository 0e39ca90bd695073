"""System checks for settings that must not reach production."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def widget_origin_gate_check(app_configs, **kwargs):
    if settings.WIDGET_ALLOW_ANY_ORIGIN:
        return [
            Warning(
                "WIDGET_ALLOW_ANY_ORIGIN is on: any web site can embed every character.",
                hint="Unset WIDGET_ALLOW_ANY_ORIGIN outside local development.",
                id="characters.W001",
            )
        ]
    return []
