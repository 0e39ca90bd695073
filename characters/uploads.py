"""Upload fields whose stored names take their extension from the content, never the client.

The extension decides how /media/ (or a web server publishing MEDIA_ROOT) labels a file: a
valid WAV uploaded as `voice.html` would otherwise be served as a page. Every way a file
reaches storage (the API, the admin, duplication) goes through FieldFile.save, renamed here.
"""

from django.db import models
from django.db.models.fields.files import FieldFile, ImageFieldFile

from characters import validators
from oshara.storage import with_extension


class ContentNamedMixin:
    def save(self, name, content, save=True):
        super().save(with_extension(name, self.field.extension_of(content)), content, save)


class ContentNamedFieldFile(ContentNamedMixin, FieldFile):
    pass


class ContentNamedImageFieldFile(ContentNamedMixin, ImageFieldFile):
    pass


class AudioFileField(models.FileField):
    attr_class = ContentNamedFieldFile
    extension_of = staticmethod(validators.audio_extension)


class ImageFileField(models.ImageField):
    attr_class = ContentNamedImageFieldFile
    extension_of = staticmethod(validators.image_extension)
