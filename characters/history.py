"""A character's versions: what a version holds, what changed between two, and recording one.

A version is the whole configuration a write leaves (every field the API shows, the handoff
targets by slug, the uploads by storage name, and the secrets), taken from the character in
memory: the services compute it before and after applying a change (no query, no rendering),
record nothing when the two are equal, and otherwise record version N+1 in the change's own
transaction, numbered from the row they hold locked (characters/services.py).

Secrets (the keys, and the tools and MCP servers whose header values are credentials) are
stored apart, in one encrypted column (version_models.py); every output masks them.
"""

import copy
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from characters.changes import Announcement
from characters.models import WRITE_ONLY_KEYS, Character, CharacterVersion
from characters.schemas import masking
from characters.signals import file_fields, remove_unreferenced_files_on_commit
from characters.version_models import AuthorType, Source

# The configuration in the API's order; "image" and "voice" hold storage names.
PLAIN_FIELDS = (
    "slug",
    "name",
    "character_type",
    "system_prompt",
    "greeting",
    "language",
    "background_audio",
    "allowed_origins",
    "session_overrides",
    "widget_appearance",
    "stt_model",
    "tts_model",
    "llm_provider",
    "llm_model",
    "kb_query_url",
    "is_active",
)
SECRET_FIELDS = (*WRITE_ONLY_KEYS, "tools", "mcp_servers")
FILE_FIELDS = ("image", "voice_audio_file")


@dataclass(frozen=True)
class Change:
    """Who makes a change, through what, and why (X-Change-Note)."""

    source: str = Source.API
    author_type: str = AuthorType.SYSTEM
    author_id: int | None = None
    author_label: str = ""
    note: str = ""


SYSTEM = Change()

# The event a change announces by its source (characters/changes.py); any other source's save
# announces `character.created` or `character.updated`.
EVENT_KINDS = {Source.RESTORE: "restored", Source.DUPLICATE: "duplicated"}


def announcement(change, changed, data=None):
    """What the save of `change`, which changed the paths `changed`, announces."""
    return Announcement(EVENT_KINDS.get(change.source), list(changed), data or {})


def configuration(character, handoff_slugs=None):
    """The whole configuration of `character` as it is in memory, secrets in plaintext.

    `handoff_slugs` None: its current handoff list (prefetched by the API's reads)."""
    if handoff_slugs is None:
        handoff_slugs = [target.slug for target in character.ordered_handoff_targets]
    document = {name: copy.deepcopy(getattr(character, name)) for name in PLAIN_FIELDS}
    document["image"] = character.image.name or ""
    document["voice"] = {
        "audio_file": character.voice_audio_file.name or "",
        "voice_url": character.voice_url,
    }
    document["handoff_targets"] = list(handoff_slugs)
    for name in WRITE_ONLY_KEYS:
        document[name] = getattr(character, name) or None
    for name in ("tools", "mcp_servers"):
        document[name] = copy.deepcopy(getattr(character, name) or [])
    return document


def with_stored_file_names(document, character):
    """`document` with the names the uploads got when the row was saved."""
    document["image"] = character.image.name or ""
    document["voice"]["audio_file"] = character.voice_audio_file.name or ""
    return document


def version_configuration(version):
    """A stored version's whole configuration, secrets decrypted."""
    return {**version.snapshot, **version.secrets}


def masked(document):
    """`document` with every secret shown as the mask (None where there is none)."""
    shown = dict(document)
    for name in WRITE_ONLY_KEYS:
        shown[name] = masking.MASK if document.get(name) else None
    shown["tools"] = masking.mask_headers(document.get("tools") or [], masking.tool_headers)
    shown["mcp_servers"] = masking.mask_headers(
        document.get("mcp_servers") or [], masking.server_headers
    )
    return shown


def differences(before, after, path=()):
    """(path, before, after) for each leaf that differs: objects by key (an absent one as
    empty), lists of the same length by index, anything else as a whole. A path is a tuple
    of keys and indexes."""
    if {type(before), type(after)} == {dict, type(None)}:
        # An object added or removed: each of its leaves, as the paths a client sets.
        before, after = before or {}, after or {}
    if isinstance(before, dict) and isinstance(after, dict):
        for key in dict.fromkeys([*before, *after]):
            yield from differences(before.get(key), after.get(key), (*path, key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from differences(old, new, (*path, index))
    elif before != after or isinstance(before, bool) != isinstance(after, bool):
        yield path, before, after


def path_text(path):
    """("tools", 0, "config", "url") -> "tools[0].config.url"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def value_at(document, path):
    for part in path:
        if isinstance(part, int):
            document = document[part] if isinstance(document, list) else None
        else:
            document = document.get(part) if isinstance(document, dict) else None
    return document


def changed_paths(before, after):
    """The paths that differ; from None (a new character): those that differ from a new
    character's defaults."""
    if before is None:
        before = configuration(Character(), handoff_slugs=[])
    return [path_text(path) for path, _, _ in differences(before, after)]


def masked_changes(before, after):
    """[{"path", "before", "after"}] between two whole configurations, secrets masked: a
    secret appears (as the mask) only where it changed."""
    shown_before, shown_after = masked(before), masked(after)
    return [
        {
            "path": path_text(path),
            "before": value_at(shown_before, path),
            "after": value_at(shown_after, path),
        }
        for path, _, _ in differences(before, after)
    ]


def record(character, document, changed, change, *, published=False):
    """Store `document` as the character's version `character.version` (the caller holds
    the row and has just saved it with that number); `published`: live at once."""
    snapshot = {key: value for key, value in document.items() if key not in SECRET_FIELDS}
    return CharacterVersion.objects.create(
        character=character,
        number=character.version,
        snapshot=snapshot,
        secrets={name: document[name] for name in SECRET_FIELDS},
        image=document["image"],
        voice_audio_file=document["voice"]["audio_file"],
        author_type=change.author_type,
        author_id=change.author_id,
        author_label=change.author_label,
        source=change.source,
        note=change.note,
        changed=changed,
        published_at=timezone.now() if published else None,
    )


# Versions other apps still need (calls: the ones its sessions ran), registered from their
# AppConfig.ready(): never pruned.
_versions_in_use = []


def keep_versions_in_use(numbers_of):
    """`numbers_of(character)`: a queryset of the version numbers of `character` an app needs."""
    _versions_in_use.append(numbers_of)


def prune(character):
    """Keep the newest VERSION_RETENTION versions of `character` that were never published
    and that no session ran (0: keep every version); the files only they showed go once the
    change commits. Published and used versions are never pruned."""
    limit = settings.VERSION_RETENTION
    if limit <= 0:
        return
    prunable = CharacterVersion.objects.filter(character=character, published_at__isnull=True)
    for numbers_of in _versions_in_use:
        prunable = prunable.exclude(number__in=numbers_of(character))
    doomed = list(prunable.order_by("-number").values_list("pk", *FILE_FIELDS)[limit:])
    if not doomed:
        return
    CharacterVersion.objects.filter(pk__in=[pk for pk, *_ in doomed]).delete()
    remove_unreferenced_files_on_commit(
        (field.storage, name)
        for _, *names in doomed
        for field, name in zip(file_fields(), names, strict=True)
    )


def mark_published(character, number, note=""):
    """Version `number` of `character` became live now, published with `note`."""
    versions = CharacterVersion.objects.filter(character=character, number=number)
    versions.update(published_at=timezone.now(), published_note=note)


def model_fields(document):
    """The character's model fields a version sets back (all but the slug and handoffs)."""
    fields = {name: copy.deepcopy(document[name]) for name in PLAIN_FIELDS if name != "slug"}
    fields["image"] = document["image"] or None
    fields["voice_audio_file"] = document["voice"]["audio_file"] or None
    fields["voice_url"] = document["voice"]["voice_url"]
    for name in SECRET_FIELDS:
        fields[name] = copy.deepcopy(document[name])
    return fields
