from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up

        import accounts.backends  # noqa: F401  # connects the signals that keep cached users and permissions current
        from accounts.referrals import credit_signup
        from accounts.roles import sync_roles

        # accounts comes after blog in INSTALLED_APPS, so blog's permissions exist by now.
        post_migrate.connect(sync_roles, sender=self)
        user_signed_up.connect(credit_signup)
