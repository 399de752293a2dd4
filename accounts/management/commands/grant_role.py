"""Give an account a role from the command line: how a new install's owner
becomes the Publisher without a superuser.

    python manage.py grant_role owner@example.com Publishers
"""

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS


class Command(BaseCommand):
    help = "Add an account (by e-mail or handle) to a role: " + ", ".join(ROLE_PERMISSIONS) + "."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", help="e-mail address or handle")
        parser.add_argument("role", choices=list(ROLE_PERMISSIONS))

    def handle(self, *args: object, **options: str) -> None:
        account = options["account"]
        user = User.objects.filter(email__iexact=account).first() or User.objects.filter(username=account).first()
        if user is None:
            raise CommandError(f"No account has the e-mail address or handle “{account}”. Sign up first.")
        user.groups.add(Group.objects.get(name=options["role"]))
        self.stdout.write(f"@{user.username} is now in {options['role']}.")
