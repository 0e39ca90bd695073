from django.urls import path, re_path

from calls.api.form_responses import FormResponsesView
from calls.api.history import SessionDetailView, UsageView
from calls.api.session_start import SessionStartView
from calls.api.worker import ReportView, RuntimeView
from calls.models import SESSION_ID_PATTERN
from characters.validators import SLUG_PATTERN

session = rf"(?P<session_id>{SESSION_ID_PATTERN})"

urlpatterns = [
    path("agents/agent-session/", SessionStartView.as_view(), name="session-start"),
    re_path(rf"^agents/sessions/{session}/runtime/$", RuntimeView.as_view(), name="runtime"),
    re_path(rf"^agents/sessions/{session}/report/$", ReportView.as_view(), name="report"),
    re_path(
        rf"^agents/(?P<slug>{SLUG_PATTERN})/form-responses/$",
        FormResponsesView.as_view(),
        name="form-responses",
    ),
    path("billing/usage/", UsageView.as_view(), name="usage"),
    # Any id reaches the view, so an unknown one is a 404 in the history's envelope too.
    re_path(
        r"^billing/sessions/(?P<session_id>[^/]+)/$", SessionDetailView.as_view(), name="session"
    ),
]
