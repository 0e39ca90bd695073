"""/api/events/ and /api/webhooks/."""

from django.db.transaction import non_atomic_requests
from django.urls import path

from events.api.views import EventListView

urlpatterns = [
    path("events/", non_atomic_requests(EventListView.as_view()), name="events"),
]
