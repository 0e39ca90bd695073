from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import ngettext

from characters import revisions
from characters.admin import add_inline
from knowledge.models import Document
from knowledge.tasks import enqueue_processing
from knowledge.validators import detect_document_type


class DocumentUploadForm(forms.ModelForm):
    """The add form: the same content checks as the API, the type taken from them."""

    class Meta:
        model = Document
        fields = ["character", "file"]

    def clean_file(self):
        file = self.cleaned_data["file"]
        self.instance.file_type = detect_document_type(file)
        return file


class DocumentInline(admin.TabularInline):
    """Read-only: documents are uploaded and processed through the API."""

    model = Document
    fields = readonly_fields = ["name", "file_type", "status", "chunk_count", "error", "created_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


add_inline(DocumentInline)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "character", "file_type", "status", "chunk_count", "created_at"]
    list_filter = ["status", "file_type"]
    list_select_related = ["character"]
    search_fields = ["file", "character__slug", "character__name"]
    raw_id_fields = ["character"]
    readonly_fields = ["file_type", "status", "chunk_count", "error", "created_at"]
    actions = ["requeue"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = DocumentUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["character", "file"]
        return ["character", "name", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # A stored document is replaced by uploading a new one, not edited in place; its file
        # is private (no URL), so only its name shows.
        return ["character", "name", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            enqueue_processing(obj.pk)

    @admin.action(description="Re-queue selected failed or pending documents")
    def requeue(self, request, queryset):
        """Failed documents, and pending ones whose task was lost; processed ones are left."""
        with transaction.atomic():
            revisions.bump_characters_of(queryset)  # before the document locks (revisions.py)
            requeued = list(
                queryset.select_related(None)
                .select_for_update()
                .exclude(status=Document.Status.PROCESSED)
                .values_list("pk", flat=True)
            )
            Document.objects.filter(pk__in=requeued).update(
                status=Document.Status.PENDING, error=""
            )
            for document_id in requeued:
                enqueue_processing(document_id)
        skipped = queryset.count() - len(requeued)
        self.message_user(
            request,
            ngettext("%d document re-queued.", "%d documents re-queued.", len(requeued))
            % len(requeued),
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d processed document skipped.", "%d processed documents skipped.", skipped
                )
                % skipped,
                messages.WARNING,
            )
