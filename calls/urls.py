from django.urls import path, re_path

from calls.api.history import SessionDetailView, UsageView
from calls.api.session_start import SessionStartView
from calls.api.worker import ReportView, RuntimeView
from calls.models import SESSION_ID_PATTERN

session = rf"(?P<session_id>{SESSION_ID_PATTERN})"

urlpatterns = [
    path("agents/agent-session/", SessionStartView.as_view(), name="session-start"),
    re_path(rf"^agents/sessions/{session}/runtime/$", RuntimeView.as_view(), name="runtime"),
    re_path(rf"^agents/sessions/{session}/report/$", ReportView.as_view(), name="report"),
    path("billing/usage/", UsageView.as_view(), name="usage"),
    re_path(rf"^billing/sessions/{session}/$", SessionDetailView.as_view(), name="session"),
]
