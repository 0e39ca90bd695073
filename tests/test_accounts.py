"""The e-mail-based user model and its manager."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db import IntegrityError, transaction

pytestmark = pytest.mark.django_db


def test_email_is_normalised_to_lower_case():
    user = get_user_model().objects.create_user("Mixed.Case@Example.COM", "x-password-123")
    assert user.email == "mixed.case@example.com"
    assert not hasattr(user, "username") or user.username is None


def test_email_unique_regardless_of_case():
    User = get_user_model()
    User.objects.create_user("a@example.com", "x-password-123")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("A@EXAMPLE.com", "x-password-123")


def test_authenticate_by_email_in_any_case():
    get_user_model().objects.create_user("a@example.com", "x-password-123")
    assert authenticate(email="A@Example.com", password="x-password-123") is not None


def test_create_superuser_noinput_uses_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Admin@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin-password-123")
    call_command("createsuperuser", interactive=False, verbosity=0)
    admin = get_user_model().objects.get()
    assert admin.email == "admin@example.com"
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("admin-password-123")


def test_create_user_requires_email():
    with pytest.raises(ValueError):
        get_user_model().objects.create_user("", "x-password-123")
