from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from characters import revisions
from characters.admin import add_inline
from knowledge import progress
from knowledge.models import Document
from knowledge.tasks import enqueue_processing
from knowledge.validators import detect_document_type
from knowledge.worker import worker_status


class DocumentUploadForm(forms.ModelForm):
    """The add form: the same content checks as the API, the type taken from them."""

    class Meta:
        model = Document
        fields = ["character", "file"]

    def clean_file(self):
        file = self.cleaned_data["file"]
        self.instance.file_type = detect_document_type(file)
        return file


NO_WORKER = (
    "No task worker has been seen for over a minute (TASK_WORKER_LEASE_SECONDS): start one "
    "(`make worker`, or `manage.py db_worker`), or documents stay Pending."
)


@admin.display(description="progress")
def progress_summary(document):
    """ "Embedding: 64 of 300 chunks" (pages while extracting and chunking)."""
    summary = document.get_stage_display()
    if document.stage in (Document.Stage.EMBEDDING, Document.Stage.DONE):
        done, total, what = document.chunks_done, document.chunks_total, "chunks"
    else:
        done, total, what = document.pages_done, document.pages_total, "pages"
    if total is not None:
        summary += f": {done} of {total} {what}"
    if document.status == Document.Status.FAILED:
        summary += " (failed here)"
    return summary


class DocumentInline(admin.TabularInline):
    """Read-only: documents are uploaded and processed through the API."""

    model = Document
    fields = readonly_fields = [
        "name",
        "file_type",
        "status",
        "progress",
        "chunk_count",
        "error",
        "created_at",
    ]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def progress(self, obj):
        return progress_summary(obj)


add_inline(DocumentInline)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "character",
        "file_type",
        "status",
        "progress",
        "chunk_count",
        "created_at",
    ]
    list_filter = ["status", "stage", "file_type"]
    list_select_related = ["character"]
    search_fields = ["file", "character__slug", "character__name"]
    # Picked by slug, name or owner (CharacterAdmin.search_fields), not by a numeric id.
    autocomplete_fields = ["character"]
    readonly_fields = [
        "file_type",
        "status",
        "progress",
        "chunk_count",
        "error",
        "task",
        "created_at",
    ]
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

    def progress(self, obj):
        return progress_summary(obj)

    @admin.display(description="task")
    def task(self, obj):
        """The last processing task's own result: its status, and why it failed."""
        result = progress.last_task(obj)
        if result is None:
            return "-"
        outcome = result.traceback.strip().splitlines()[-1] if result.traceback else ""
        meta = result._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[result.pk])
        return format_html('<a href="{}">{}</a> {}', url, result.get_status_display(), outcome)

    def changelist_view(self, request, extra_context=None):
        self.warn_without_worker(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self.warn_without_worker(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def warn_without_worker(self, request):
        if request.method == "GET" and worker_status() == "stale":
            self.message_user(request, NO_WORKER, messages.WARNING)

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
                status=Document.Status.PENDING,
                error="",
                stage=Document.Stage.QUEUED,
                progress_at=None,
                **progress.RESTARTED,
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
