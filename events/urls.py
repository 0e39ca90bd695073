"""/api/events/ and /api/webhooks/."""

from django.db.transaction import non_atomic_requests
from django.urls import path
from rest_framework.routers import SimpleRouter

from events.api.views import EventListView
from events.api.webhooks import WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("events/", non_atomic_requests(EventListView.as_view()), name="events"),
    *router.urls,
]
