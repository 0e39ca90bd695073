"""Who makes a change through the API, and the note they send with it (X-Change-Note)."""

import contextlib

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from accounts.api_keys.models import ApiKey
from characters.history import Change
from characters.version_models import NOTE_MAX_LENGTH, AuthorType, Source

NOTE_HEADER = "X-Change-Note"
NOTE_PARAMETER = OpenApiParameter(
    NOTE_HEADER,
    str,
    OpenApiParameter.HEADER,
    description=f"Why this change is made (at most {NOTE_MAX_LENGTH} characters, UTF-8): "
    "stored with the version it records.",
)


def change_note(request):
    """The note, or a 400 naming the header. WSGI hands header bytes over as Latin-1: a
    note a client sent as UTF-8 is read back as such."""
    note = request.headers.get(NOTE_HEADER, "")
    with contextlib.suppress(UnicodeError):  # else it was sent as Latin-1 after all
        note = note.encode("latin-1").decode("utf-8")
    if len(note) > NOTE_MAX_LENGTH:
        message = f"Ensure this header has no more than {NOTE_MAX_LENGTH} characters."
        raise ValidationError({NOTE_HEADER: [message]})
    if "\x00" in note:
        raise ValidationError({NOTE_HEADER: ["Null characters are not allowed."]})
    return note.strip()


def change_of(request, source=Source.API):
    """The change a write request makes: its author (an API key, or the user) and note."""
    note = change_note(request)
    if isinstance(request.auth, ApiKey):
        key = request.auth
        return Change(source, AuthorType.API_KEY, key.pk, key.name, note)
    user = request.user
    return Change(source, AuthorType.USER, user.pk, user.get_username(), note)
