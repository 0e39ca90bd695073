"""Field validators shared by the model (and so the admin) and the API serializers."""

import ipaddress
import re
from urllib.parse import urlsplit

import langcodes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from PIL import Image

MAX_ALLOWED_ORIGINS = 50

# Also the URL pattern of every path that takes a slug: anything else is a 404 before any query.
SLUG_PATTERN = r"[a-z0-9_-]{1,64}"

validate_slug = RegexValidator(
    rf"^{SLUG_PATTERN}\Z",
    "Use 1-64 lower-case letters, digits, hyphens or underscores.",
    code="invalid_slug",
)

validate_http_url = URLValidator(schemes=["http", "https"], message="Enter an http(s) URL.")


def validate_language(value):
    """A BCP-47 tag such as "en" or "pt-BR" (hyphens, not underscores)."""
    if not isinstance(value, str) or "_" in value or not langcodes.tag_is_valid(value):
        raise ValidationError(
            '"%(value)s" is not a valid BCP-47 language tag (e.g. "en", "pt-BR").',
            code="invalid_language",
            params={"value": value},
        )


def validate_origin(value):
    """An absolute http(s) URL prefix: scheme and host, no credentials, query or fragment."""
    message = (
        "Enter an absolute http(s) URL prefix such as https://example.com "
        "(no credentials, query or fragment)."
    )
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        raise ValidationError(message, code="invalid_origin")
    try:
        parts = urlsplit(value)
        bad_port = parts.port == 0  # .port raises ValueError when out of range
    except ValueError:
        raise ValidationError(message, code="invalid_origin") from None
    if (
        bad_port
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or "?" in value
        or "#" in value
    ):
        raise ValidationError(message, code="invalid_origin")
    validate_http_url(value)


DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(url, *, strict=False):
    """ "scheme://host[:port]" in the form browsers send, or None if `url` has no usable origin.

    Lower-case scheme and host, IDNA host, IPv6 compressed, default port dropped, path/query
    ignored, so "HTTPS://Acme.com:443/widgets" -> "https://acme.com". `strict` (for an Origin
    header) refuses anything beyond an origin: a path, query, fragment or credentials.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except (TypeError, ValueError, AttributeError):
        return None
    if strict and (
        parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc
    ):
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if ":" in host:  # an IPv6 literal, written as browsers write it
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            return None
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def stored_origins(values):
    """allowed_origins as stored: each entry (already valid) as its origin, repeats dropped.
    Users paste URLs ("https://acme.com/help"); what the gate compares is the origin."""
    return dedupe(normalise_origin(value) or value for value in values)


def validate_allowed_origins(value):
    """The model-level rule for the whole list (the API checks each entry itself)."""
    if not isinstance(value, list):
        raise ValidationError("Expected a list of URL prefixes.", code="invalid")
    if len(value) > MAX_ALLOWED_ORIGINS:
        raise ValidationError(
            f"Ensure this list has no more than {MAX_ALLOWED_ORIGINS} entries.", code="max_length"
        )
    for index, origin in enumerate(value):
        try:
            validate_origin(origin)
        except ValidationError as exc:
            raise ValidationError(
                f"Entry {index}: {exc.messages[0]}", code="invalid_origin"
            ) from None


# The per-session overrides a session start may send (besides the slug), and those a caller
# admitted by its Origin alone may send unless the owner lists others in `session_overrides`:
# the Origin header is only a browser's word, so a prompt, greeting, voice or MCP headers of
# a stranger's choosing would turn the owner's LLM key into a free prompt proxy.
SESSION_OVERRIDE_KEYS = (
    "language",
    "system_prompt",
    "greeting",
    "voice_model",
    "reference_audio_url",
    "mcp_headers",
    "origin_url",
    "metadata",
)
DEFAULT_SESSION_OVERRIDES = ("language", "origin_url", "metadata")


def default_session_overrides():
    return list(DEFAULT_SESSION_OVERRIDES)


def validate_session_overrides(value):
    """The model-level rule: a list of session-start override keys (the API checks each)."""
    if not isinstance(value, list):
        raise ValidationError("Expected a list of override keys.", code="invalid")
    for index, key in enumerate(value):
        if key not in SESSION_OVERRIDE_KEYS:
            raise ValidationError(
                f"Entry {index}: {key!r} is not an override key; choose from "
                f"{', '.join(SESSION_OVERRIDE_KEYS)}.",
                code="invalid_choice",
            )


# The longest LLM API key accepted (the API and the admin form alike).
LLM_API_KEY_MAX_LENGTH = 500

HANDOFF_SELF = "A character cannot hand off to itself."
HANDOFF_DUPLICATE = "This character is already in the list."
HANDOFF_UNKNOWN = "You have no character with this slug."
HANDOFF_OTHER_OWNER = "Choose one of this character's owner's characters."


def handoff_errors(source, targets):
    """The handoff rules, {index: message}: not the source itself, no target twice.

    `source` and `targets` are keys of one kind (slugs from the API, ids from the admin);
    None stands for a target not chosen yet. Callers add their own "not found" checks.
    """
    errors, seen = {}, set()
    for index, target in enumerate(targets):
        if target is None:
            continue
        if source is not None and target == source:
            errors[index] = HANDOFF_SELF
        elif target in seen:
            errors[index] = HANDOFF_DUPLICATE
        seen.add(target)
    return errors


def dedupe(values):
    """Drop repeated entries, keeping the first occurrence's position."""
    return list(dict.fromkeys(values))


# The image formats accepted, and the extension a stored file of each format gets.
IMAGE_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
ALLOWED_IMAGE_FORMATS = set(IMAGE_EXTENSIONS)
# Mutagen's file types, by class name, and the extension a stored file of each type gets.
AUDIO_EXTENSIONS = {
    "MP3": "mp3",
    "WAVE": "wav",
    "OggVorbis": "ogg",
    "OggOpus": "opus",
    "OggFLAC": "oga",
    "OggSpeex": "spx",
    "FLAC": "flac",
    "MP4": "m4a",
    "AIFF": "aiff",
    "ASF": "wma",
}
# Content of no known type: stored as opaque bytes (served as a download, never rendered).
UNKNOWN_EXTENSION = "bin"


def image_extension(file):
    """The extension of the image format the content really is."""
    try:
        file.seek(0)
        with Image.open(file) as image:
            image_format = image.format
    except Exception:  # Pillow raises many types for what is not an image
        image_format = None
    finally:
        file.seek(0)
    return IMAGE_EXTENSIONS.get(image_format, UNKNOWN_EXTENSION)


def audio_extension(file):
    """The extension of the audio type the content really is."""
    from mutagen import File as AudioFile
    from mutagen import MutagenError

    try:
        file.seek(0)
        audio = AudioFile(file)
    except (MutagenError, OSError, ValueError, EOFError):
        audio = None
    finally:
        file.seek(0)
    return AUDIO_EXTENSIONS.get(type(audio).__name__, UNKNOWN_EXTENSION)


def validate_image(file):
    """A real PNG/JPEG/WebP/GIF within the byte and pixel limits, decoded in full."""
    if file.size is not None and file.size > settings.CHARACTER_IMAGE_MAX_BYTES:
        raise ValidationError(
            f"The image is larger than {settings.CHARACTER_IMAGE_MAX_BYTES} bytes.",
            code="file_too_large",
        )
    invalid = ValidationError("Upload a valid PNG, JPEG, WebP or GIF image.", code="invalid_image")
    try:
        file.seek(0)
        with Image.open(file) as image:
            if image.format not in ALLOWED_IMAGE_FORMATS:
                raise invalid
            width, height = image.size
            # Checked before decoding, so a decompression bomb is never expanded.
            if width * height > settings.CHARACTER_IMAGE_MAX_PIXELS:
                raise ValidationError(
                    f"The image has more than {settings.CHARACTER_IMAGE_MAX_PIXELS} pixels.",
                    code="too_many_pixels",
                )
            image.verify()
        file.seek(0)
        with Image.open(file) as image:
            image.load()  # verify() misses truncated JPEGs; a full decode does not
    except ValidationError:
        raise
    except Exception:  # Pillow raises many types for corrupt input, bombs included
        raise invalid from None
    finally:
        file.seek(0)


def validate_audio(file):
    """A real audio file (MP3, WAV, OGG, FLAC, M4A, …) with a duration, within the byte limit."""
    from mutagen import File as AudioFile
    from mutagen import MutagenError

    if file.size is not None and file.size > settings.CHARACTER_AUDIO_MAX_BYTES:
        raise ValidationError(
            f"The audio file is larger than {settings.CHARACTER_AUDIO_MAX_BYTES} bytes.",
            code="file_too_large",
        )
    invalid = ValidationError(
        "Upload a valid audio file (MP3, WAV, OGG, FLAC or M4A).", code="invalid_audio"
    )
    try:
        file.seek(0)
        audio = AudioFile(file)
    except (MutagenError, OSError, ValueError, EOFError):
        raise invalid from None
    finally:
        file.seek(0)
    if audio is None or not getattr(audio.info, "length", 0):
        raise invalid


HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})\Z")


def validate_hex_colour(value):
    if not isinstance(value, str) or not HEX_COLOUR.match(value):
        raise ValidationError("Enter a hex colour such as #6366F1.", code="invalid_colour")


def flatten_errors(errors, path=""):
    """{"theme": {"primary_color": ["bad"]}} -> ["theme.primary_color: bad"]."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
        items = enumerate(errors)
    else:
        return [f"{path}: {message}" if path else str(message) for message in errors]
    messages = []
    for key, value in items:
        if value:
            child = str(key) if key != "non_field_errors" else ""
            messages += flatten_errors(value, f"{path}.{child}".strip(".") if child else path)
    return messages
