from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts.roles import sync_roles

        # accounts comes after blog in INSTALLED_APPS, so blog's permissions exist by now.
        post_migrate.connect(sync_roles, sender=self)
