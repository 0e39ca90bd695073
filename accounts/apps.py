from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts import login_limits  # noqa: F401  (connects the failed-login counter)
        from accounts.api_keys import openapi  # noqa: F401  registers the ApiKeyAuth scheme
        from accounts.organizations import signals  # noqa: F401  a personal organization each
