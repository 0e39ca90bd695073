from django.urls import re_path
from rest_framework.routers import SimpleRouter

from characters.public_views import widget_appearance
from characters.views import CharacterViewSet

router = SimpleRouter()
router.register("ai-characters", CharacterViewSet, basename="character")

urlpatterns = [
    *router.urls,
    re_path(
        r"^agents/(?P<slug>[a-z0-9_-]{1,64})/appearance/$",
        widget_appearance,
        name="widget-appearance",
    ),
]
