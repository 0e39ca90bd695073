"""Operators' admin for characters: as strict as the API, and it never shows a key."""

from django.contrib import admin, messages
from django.http import JsonResponse
from django.utils.html import format_html

from characters import duplication, services
from characters.admin.forms import (
    CharacterAdminForm,
    HandoffTargetAutocomplete,
    HandoffTargetForm,
    HandoffTargetFormSet,
)
from characters.admin.preview import widget_preview_html
from characters.admin.versions import history_table
from characters.api.serializers import CharacterSerializer
from characters.history import Change
from characters.models import WRITE_ONLY_KEYS, Character, HandoffTarget
from characters.selectors import characters_for_reading, without_keys
from characters.version_models import AuthorType, Source


class HandoffTargetInline(admin.TabularInline):
    model = HandoffTarget
    fk_name = "source"
    form = HandoffTargetForm
    formset = HandoffTargetFormSet
    fields = ["target", "position"]
    autocomplete_fields = ["target"]
    extra = 1
    verbose_name = "handoff target"
    verbose_name_plural = "Handoffs (characters of the same owner, in order)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "target":
            kwargs["widget"] = HandoffTargetAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        widget = formset.form.base_fields["target"].widget
        # The admin wraps the autocomplete in a RelatedFieldWidgetWrapper.
        getattr(widget, "widget", widget).source_pk = obj.pk if obj else None
        return formset


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin):
    form = CharacterAdminForm
    list_display = [
        "slug",
        "name",
        "owner",
        "character_type",
        "language",
        "is_active",
        "origin_count",
        "has_key",
        "updated_at",
    ]
    list_select_related = ["owner"]
    search_fields = ["slug", "name", "owner__email", "organization__slug"]
    list_filter = [
        "is_active",
        "character_type",
        "language",
        "background_audio",
        ("organization", admin.RelatedOnlyFieldListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
    ]
    ordering = ["-created_at", "-id"]
    autocomplete_fields = ["owner", "organization"]
    readonly_fields = [
        "image_preview",
        "widget_preview",
        "version_history",
        "version",
        "published_version",
        "has_key",
        "has_kb_key",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            "Identity",
            {
                "fields": [
                    "organization",
                    "owner",
                    "slug",
                    "name",
                    "is_active",
                    "publishing",
                    "version",
                    "published_version",
                    "character_type",
                    "image",
                    "image_preview",
                ]
            },
        ),
        ("Persona", {"fields": ["system_prompt", "greeting", "language"]}),
        (
            "Voice",
            {
                "fields": [
                    "voice_audio_file",
                    "voice_url",
                    "background_audio",
                    "stt_model",
                    "tts_model",
                ]
            },
        ),
        (
            "Models and key",
            {
                "fields": [
                    "llm_provider",
                    "llm_model",
                    "has_key",
                    "llm_api_key",
                    "clear_llm_api_key",
                ]
            },
        ),
        (
            "Embedding",
            {
                "fields": ["allowed_origins", "session_overrides"],
                "description": "Allowed origins: a JSON list of URL prefixes, e.g. "
                '["https://acme.com"]; [] blocks the widget everywhere.',
            },
        ),
        (
            "Appearance",
            {
                "fields": ["widget_preview", "widget_appearance"],
                "description": "The widget appearance overrides, as in the API: what is left "
                "empty keeps the platform's default. The preview follows the editor as you type; "
                "nothing is saved until you save.",
            },
        ),
        (
            "Tools",
            {
                "fields": [
                    "tools",
                    "mcp_servers",
                    "kb_query_url",
                    "has_kb_key",
                    "kb_query_api_key",
                    "clear_kb_query_api_key",
                ],
                "description": "JSON lists, as in the API (kinds http, mcp, kb, client_event). "
                "Header values show as ******** ; leave a mask in place to keep the stored value.",
            },
        ),
        ("Timestamps", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    # Other apps add theirs with add_inline() (knowledge: the documents).
    inlines = [HandoffTargetInline]
    actions = ["duplicate_selected", "duplicate_selected_with_key", "export_as_json"]

    class Media:
        css = {"all": ["characters/admin/widget_preview.css"]}
        # jQuery first, named: the structured editors' media would otherwise come before it.
        js = [
            "admin/js/vendor/jquery/jquery.min.js",
            "admin/js/jquery.init.js",
            "characters/admin/handoff_autocomplete.js",
            "characters/admin/widget_preview.js",
        ]

    def get_queryset(self, request):
        # The keys are never loaded (nor decrypted) for display: a NULL check says if one is set.
        return without_keys(super().get_queryset(request))

    # -- writes go through characters.services, as the API's do ----------------------------

    def save_model(self, request, obj, form, change):
        # Saved in save_related(), together with its handoff list: one change, one version.
        return

    def save_related(self, request, form, formsets, change):
        obj = form.instance
        handoffs = next((f for f in formsets if isinstance(f, HandoffTargetFormSet)), None)
        targets = handoffs.ordered_targets() if handoffs is not None else None
        author = Change(
            Source.ADMIN, AuthorType.ADMIN, request.user.pk, request.user.get_username()
        )
        if not change:
            services.character_create(obj, handoff_targets=targets or [], change=author)
        else:
            # The stored character, locked, receives what the form has put on obj: the
            # service records what differs (the keys included) and keeps replaced uploads
            # a version still shows.
            stored = services.locked_for_write(characters_for_reading().filter(pk=obj.pk)).get()
            fields = {
                field.attname: getattr(obj, field.attname)
                for field in Character._meta.concrete_fields
                if field.name in form.fields or field.name in WRITE_ONLY_KEYS
            }
            services.character_update(stored, fields, handoff_targets=targets, change=author)
        super().save_related(request, form, formsets, change)

    def delete_model(self, request, obj):
        services.character_delete(obj)

    def delete_queryset(self, request, queryset):
        for character in queryset:
            services.character_delete(character)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:  # restore and publish are on each version's page
            fieldsets.append(("History", {"fields": ["version_history"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("slug")  # the widget's public key is stable, as in the API
        return readonly

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if is_handoff_autocomplete(request):
            owner = request.GET.get("owner", "")
            source = request.GET.get("source", "")
            queryset = queryset.filter(owner_id=owner) if owner.isdigit() else queryset.none()
            if source.isdigit():
                queryset = queryset.exclude(pk=source)
        return queryset, may_have_duplicates

    @admin.display(description="origins")
    def origin_count(self, obj):
        return len(obj.allowed_origins)

    @admin.display(description="has key", boolean=True)
    def has_key(self, obj):
        return obj is not None and obj.pk is not None and obj.has_llm_api_key

    @admin.display(description="has knowledge-base key", boolean=True)
    def has_kb_key(self, obj):
        return obj is not None and obj.pk is not None and obj.has_kb_query_api_key

    @admin.display(description="preview")
    def image_preview(self, obj):
        if obj is None or not obj.image:
            return "-"
        return format_html(
            '<img src="{}" alt="" style="max-width: 160px; max-height: 160px;">', obj.image.url
        )

    @admin.display(description="live preview")
    def widget_preview(self, obj):
        return widget_preview_html(obj)

    @admin.display(description="versions")
    def version_history(self, obj):
        return history_table(obj)

    @admin.action(description="Duplicate selected characters (without their key)")
    def duplicate_selected(self, request, queryset):
        self._duplicate(request, queryset, with_key=False)

    @admin.action(description="Duplicate selected characters with their key")
    def duplicate_selected_with_key(self, request, queryset):
        self._duplicate(request, queryset, with_key=True)

    def _duplicate(self, request, queryset, with_key):
        sources = Character.objects.filter(pk__in=queryset.values("pk")).prefetch_related(
            "handoff_links__target"
        )
        author = Change(
            Source.ADMIN, AuthorType.ADMIN, request.user.pk, request.user.get_username()
        )
        slugs = []
        for source in sources:
            duplicate = duplication.duplicate_character(source, with_key=with_key, change=author)
            self.log_addition(request, duplicate, f"Duplicated from {source.slug}.")
            slugs.append(duplicate.slug)
        self.message_user(
            request,
            f"Created {len(slugs)} {'copy' if len(slugs) == 1 else 'copies'}: {', '.join(slugs)}.",
            messages.SUCCESS,
        )

    @admin.action(description="Export selected characters as JSON (API representation)")
    def export_as_json(self, request, queryset):
        characters = characters_for_reading().without_api_key().filter(pk__in=queryset.values("pk"))
        data = CharacterSerializer(characters, many=True, context={"request": request}).data
        response = JsonResponse(data, safe=False, json_dumps_params={"indent": 2})
        response["Content-Disposition"] = 'attachment; filename="characters.json"'
        return response


def add_inline(inline):
    """Show another app's inline on the character's page (knowledge: its documents)."""
    CharacterAdmin.inlines = [*CharacterAdmin.inlines, inline]


def is_handoff_autocomplete(request):
    """The admin's autocomplete request for HandoffTarget.target."""
    params = request.GET
    return (
        request.resolver_match is not None
        and request.resolver_match.url_name == "autocomplete"
        and params.get("app_label") == HandoffTarget._meta.app_label
        and params.get("model_name") == HandoffTarget._meta.model_name
        and params.get("field_name") == "target"
    )
