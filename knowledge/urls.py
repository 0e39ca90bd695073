from django.urls import path
from rest_framework.routers import SimpleRouter

from characters.validators import SLUG_PATTERN
from knowledge.views import DocumentViewSet, KnowledgeQueryView

router = SimpleRouter()
router.register(
    rf"knowledge-base/(?P<slug>{SLUG_PATTERN})/documents", DocumentViewSet, basename="document"
)

urlpatterns = [
    path("knowledge-base/query/", KnowledgeQueryView.as_view(), name="knowledge-query"),
    *router.urls,
]
