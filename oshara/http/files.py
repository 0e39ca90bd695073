"""Headers for every response that carries an uploaded file's bytes.

Uploads are whatever a client sent: served from the application's own origin, a file a
browser renders (HTML, SVG, XML) could script the admin. So no answer may be sniffed into
another type, any document rendered runs sandboxed with nothing loaded, and only the types
uploads are meant to be (raster images and audio) show inline; everything else downloads.
"""

SANDBOX_POLICY = "default-src 'none'; sandbox"
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})


def shows_inline(content_type):
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type in INLINE_TYPES or media_type.startswith("audio/")


def harden_file_response(response):
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    disposition = response.get("Content-Disposition", "")
    if not shows_inline(response.get("Content-Type")) and not disposition.startswith("attachment"):
        # Django's static serve says "inline; filename=…": keep the name, not the rendering.
        response["Content-Disposition"] = "attachment" + disposition.removeprefix("inline")
    return response
