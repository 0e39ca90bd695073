"""/api/events/ and /api/webhooks/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from events.api.views import EventListView
from events.api.webhooks import WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("events/", EventListView.as_view(), name="events"),
    *router.urls,
]
