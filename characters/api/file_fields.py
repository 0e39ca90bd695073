"""File fields a client can send back as it read them: GET, edit, PUT must round-trip.

A read gives a file as its URL; sending that same URL back keeps the stored file, `null`
clears it, an upload replaces it, and any other string is a 400 naming the field.
"""

from rest_framework import serializers
from rest_framework.fields import SkipField


class KeptFileMixin:
    default_error_messages = {
        "not_current_url": "Upload a file, send null to clear it, or send back the URL this "
        "field was read with to keep the file."
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data:
            if data in self._current_urls():
                raise SkipField()  # unchanged: the stored file stays
            self.fail("not_current_url")
        return super().to_internal_value(data)

    def _current_urls(self):
        instance = self.root.instance
        stored = getattr(instance, self.source, None) if instance is not None else None
        if not stored:
            return set()
        # The absolute URL a read returned, and the bare one for clients that strip the host.
        return {self.to_representation(stored), stored.url}


class KeptFileField(KeptFileMixin, serializers.FileField):
    pass


class KeptImageField(KeptFileMixin, serializers.ImageField):
    pass
