from rest_framework.routers import SimpleRouter

from characters.views import CharacterViewSet

router = SimpleRouter()
router.register("ai-characters", CharacterViewSet, basename="character")

urlpatterns = router.urls
