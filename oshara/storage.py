"""File storage whose stored names stay within what every filesystem accepts."""

from django.core.files.storage import FileSystemStorage

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


class BoundedNameStorage(FileSystemStorage):
    def get_valid_name(self, name):
        return super().get_valid_name(bounded_name(super().get_valid_name(name)))
