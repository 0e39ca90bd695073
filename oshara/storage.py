"""File storages: names within what every filesystem accepts, and a private one no URL serves."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property

STEM_MAX_BYTES = 100
EXTENSION_MAX_CHARACTERS = 10


def bounded_name(name):
    """The client's file name, cut to STEM_MAX_BYTES of UTF-8 (filesystems count bytes, not
    characters: 255 at most); an extension that is long or not ASCII letters and digits goes.
    """
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    elif not (extension.isascii() and extension.isalnum()):
        stem, extension = f"{stem}_{extension}", ""
    elif len(extension) > EXTENSION_MAX_CHARACTERS:
        extension = ""
    stem = stem.encode("utf-8")[:STEM_MAX_BYTES].decode("utf-8", "ignore") or "file"
    return f"{stem}.{extension}" if extension else stem


def with_extension(name, extension):
    """The client's file name with `extension` (decided from the content) instead of its own.

    Every other dot becomes "_", so no earlier extension survives ("x.html.png" would be
    HTML to a server that maps several extensions): "avatar.html" -> "avatar.png".
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rpartition(".")[0] if "." in base else base
    return f"{stem.replace('.', '_').strip('_') or 'file'}.{extension}"


class BoundedNameStorage(FileSystemStorage):
    def get_valid_name(self, name):
        return super().get_valid_name(bounded_name(super().get_valid_name(name)))


class PrivateStorage(BoundedNameStorage):
    """Files under PRIVATE_MEDIA_ROOT, which no URL serves: their owner downloads them through
    an authenticated endpoint. The folder is read from settings as MEDIA_ROOT is (tests
    override it)."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no URL: serve them through a view that checks access.")


def private_storage():
    """The storage of files no URL serves (STORAGES["private"])."""
    return storages["private"]
