from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views
from accounts.api_keys.views import ApiKeyViewSet

app_name = "accounts"

api_keys = SimpleRouter()
api_keys.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    *api_keys.urls,
]
