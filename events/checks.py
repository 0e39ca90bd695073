"""`check --deploy` warns when a webhook safety switch meant for development is on."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def webhook_switches(app_configs, **kwargs):
    warnings = []
    if settings.WEBHOOK_ALLOW_HTTP:
        warnings.append(
            Warning(
                "WEBHOOK_ALLOW_HTTP is on: webhooks may be sent over plain http.",
                hint="Development and tests only; unset it in production.",
                id="events.W001",
            )
        )
    if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        warnings.append(
            Warning(
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS is on: webhooks may reach private addresses.",
                hint="Development and tests only; unset it in production.",
                id="events.W002",
            )
        )
    return warnings
