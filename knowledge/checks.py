"""System check: documents must stay out of what /media/ (or a web server) publishes."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def private_media_check(app_configs, **kwargs):
    private = Path(settings.PRIVATE_MEDIA_ROOT).resolve()
    public = Path(settings.MEDIA_ROOT).resolve()
    if private == public or public in private.parents or private in public.parents:
        return [
            Error(
                "PRIVATE_MEDIA_ROOT and MEDIA_ROOT overlap: knowledge-base documents would be "
                "served publicly under MEDIA_URL (or uploads served from the private folder).",
                hint="Give PRIVATE_MEDIA_ROOT a folder outside MEDIA_ROOT, and vice versa.",
                id="knowledge.E001",
            )
        ]
    return []
