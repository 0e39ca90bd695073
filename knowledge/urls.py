from rest_framework.routers import SimpleRouter

from characters.validators import SLUG_PATTERN
from knowledge.views import DocumentViewSet

router = SimpleRouter()
router.register(
    rf"knowledge-base/(?P<slug>{SLUG_PATTERN})/documents", DocumentViewSet, basename="document"
)

urlpatterns = router.urls
