"""Operators' admin for e-mail users (there is no username)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.emails import normalize_email
from accounts.models import User


class EmailUserCreationForm(AdminUserCreationForm):
    """Django's add-user form (password typed twice, validated) keyed on the e-mail address."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    add_form = EmailUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "is_staff", "is_active", "is_superuser", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active", "is_superuser", "groups")
    search_fields = ("email",)
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")


from accounts.api_keys import admin as api_keys_admin  # noqa: E402, F401  registers ApiKeyAdmin
from accounts.organizations import admin as organizations_admin  # noqa: E402, F401
