from django.urls import re_path
from rest_framework.routers import SimpleRouter

from characters.api.version_views import CharacterVersionViewSet
from characters.api.views import CharacterViewSet
from characters.validators import SLUG_PATTERN
from characters.widget.views import widget_appearance

router = SimpleRouter()
router.register("ai-characters", CharacterViewSet, basename="character")
router.register(
    rf"ai-characters/(?P<slug>{SLUG_PATTERN})/versions",
    CharacterVersionViewSet,
    basename="character-version",
)

urlpatterns = [
    *router.urls,
    re_path(
        rf"^agents/(?P<slug>{SLUG_PATTERN})/appearance/$",
        widget_appearance,
        name="widget-appearance",
    ),
]
