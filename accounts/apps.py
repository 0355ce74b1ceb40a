from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts and two-factor sign-in"

    def ready(self):
        from . import signals  # noqa: F401
