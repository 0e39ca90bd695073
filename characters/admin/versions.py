"""A character's history in the admin: its versions, what each changed (secrets masked), and
restoring or publishing one, through the same services as the API."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from characters import history, services
from characters.history import Change
from characters.models import Character, CharacterVersion, Publishing
from characters.selectors import characters_for_reading
from characters.version_models import AuthorType, Source

# How many versions the character's page lists; the rest are a click away.
RECENT = 10


def version_url(version):
    return reverse("admin:characters_characterversion_change", args=[version.pk])


def history_table(character):
    """The character page's history: its newest versions, each linking to its page."""
    versions = list(
        CharacterVersion.objects.filter(character=character)
        .order_by("-number")
        .defer("snapshot", "secrets")[:RECENT]
    )
    if not versions:
        return "No version yet."
    rows = format_html_join(
        "",
        '<tr><td><a href="{}">v{}</a>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                version_url(version),
                version.number,
                " (live)" if version.number == character.published_version else "",
                version.created_at.strftime("%Y-%m-%d %H:%M"),
                f"{version.author_label or version.author_type} ({version.source})",
                ", ".join(version.changed[:5]) + (" …" if len(version.changed) > 5 else ""),
                version.note,
            )
            for version in versions
        ),
    )
    everything = reverse("admin:characters_characterversion_changelist")
    return format_html(
        '<table class="version-history"><thead><tr><th>version</th><th>saved</th>'
        "<th>by</th><th>changed</th><th>note</th></tr></thead><tbody>{}</tbody></table>"
        '<p><a href="{}?character__id__exact={}">All versions</a></p>',
        rows,
        everything,
        character.pk,
    )


def changes_table(changes):
    if not changes:
        return "Nothing differs."
    return format_html(
        "<table><thead><tr><th>path</th><th>before</th><th>after</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        format_html_join(
            "",
            "<tr><td><code>{}</code></td><td><pre>{}</pre></td><td><pre>{}</pre></td></tr>",
            (
                (change["path"], shown(change["before"]), shown(change["after"]))
                for change in changes
            ),
        ),
    )


def shown(value):
    return json.dumps(value, ensure_ascii=False, indent=1)


@admin.register(CharacterVersion)
class CharacterVersionAdmin(admin.ModelAdmin):
    """Read-only: a version never changes. Restoring or publishing one is a change of its
    character, made by the buttons on the version's page."""

    list_display = ["__str__", "character", "created_at", "author_label", "source", "note"]
    list_filter = ["source"]
    list_select_related = ["character"]
    search_fields = ["character__slug", "note", "author_label"]
    fields = readonly_fields = [
        "character",
        "number",
        "created_at",
        "author",
        "source",
        "note",
        "published_at",
        "published_note",
        "changes_from_previous",
        "changes_to_newest",
        "configuration",
    ]
    change_form_template = "characters/admin/version_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("character")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The page is for reading; its buttons check the character's own permission.
        return False

    @admin.display(description="author")
    def author(self, version):
        return f"{version.author_label or '-'} ({version.get_author_type_display()})"

    @admin.display(description="what this version changed")
    def changes_from_previous(self, version):
        previous = CharacterVersion.objects.filter(
            character_id=version.character_id, number__lt=version.number
        ).first()
        if previous is None:
            return "The first version."
        return changes_table(diff(previous, version))

    @admin.display(description="from this version to the newest")
    def changes_to_newest(self, version):
        newest = CharacterVersion.objects.filter(character_id=version.character_id).first()
        return changes_table(diff(version, newest))

    @admin.display(description="the configuration (secrets masked)")
    def configuration(self, version):
        masked = history.masked(history.version_configuration(version))
        return format_html("<pre>{}</pre>", shown(masked))

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            may_change = self.character_may_change(request, obj.character)
            context.update(
                may_restore=may_change and obj.number != obj.character.version,
                may_publish=may_change
                and obj.character.publishing == Publishing.MANUAL
                and obj.number != obj.character.published_version,
                restore_url=reverse("admin:characters_characterversion_restore", args=[obj.pk]),
                publish_url=reverse("admin:characters_characterversion_publish", args=[obj.pk]),
            )
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/restore/", wrap(self.restore_view), name=self.url_name("restore")),
            path("<int:pk>/publish/", wrap(self.publish_view), name=self.url_name("publish")),
            *super().get_urls(),
        ]

    def url_name(self, action):
        return f"{self.opts.app_label}_{self.opts.model_name}_{action}"

    def character_may_change(self, request, character):
        return self.admin_site._registry[Character].has_change_permission(request, character)

    def restore_view(self, request, pk):
        return self.change_character(request, pk, restore=True)

    def publish_view(self, request, pk):
        return self.change_character(request, pk, restore=False)

    def change_character(self, request, pk, *, restore):
        if request.method != "POST":
            return redirect("admin:characters_characterversion_change", pk)
        version = get_object_or_404(CharacterVersion.objects.select_related("character"), pk=pk)
        if not self.character_may_change(request, version.character):
            raise PermissionDenied
        with transaction.atomic():
            character = services.locked_for_write(
                characters_for_reading().filter(pk=version.character_id)
            ).get()
            if restore:
                author = Change(
                    Source.RESTORE,
                    AuthorType.ADMIN,
                    request.user.pk,
                    request.user.get_username(),
                    f"Restored version {version.number} in the admin.",
                )
                services.restore_version(character, version, author)
                message = f"Restored version {version.number} as version {character.version}."
            else:
                try:
                    services.publish(character, version.number)
                except services.AutoPublishing:
                    self.message_user(
                        request, "Every version of this character is live at once.", messages.ERROR
                    )
                    return redirect("admin:characters_characterversion_change", pk)
                message = f"Version {version.number} is now what the public meets."
        self.message_user(request, message, messages.SUCCESS)
        return redirect("admin:characters_character_change", version.character_id)


def diff(before, after):
    return history.masked_changes(
        history.version_configuration(before), history.version_configuration(after)
    )
