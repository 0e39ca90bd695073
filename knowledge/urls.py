from rest_framework.routers import SimpleRouter

from knowledge.views import DocumentViewSet

router = SimpleRouter()
router.register(r"knowledge-base/(?P<slug>[^/]+)/documents", DocumentViewSet, basename="document")

urlpatterns = router.urls
