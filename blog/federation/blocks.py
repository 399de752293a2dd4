"""The moderators' instance block list: nothing from a blocked server is
accepted (its requests get 403 before any key is fetched), nothing is sent
to it, and its follows end when it is blocked."""

import re

from django.db import transaction

from accounts.models import User
from blog.models import BlockedInstance, FederatedDelivery, Follower

DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?$"
)


class BlockRefused(Exception):
    """The block is not saved; the message says why."""


def clean_domain(text: str) -> str:
    """`https://Bad.Example/@x` or `bad.example` -> `bad.example`; BlockRefused if it is no host name."""
    domain = text.strip().lower().removeprefix("https://").removeprefix("http://").split("/", 1)[0]
    domain = domain.rsplit("@", 1)[-1]
    if not DOMAIN.match(domain):
        raise BlockRefused("Enter a server's host name, such as bad.example.")
    return domain


def block_instance(text: str, reason: str, by: User) -> BlockedInstance:
    domain = clean_domain(text)
    if len(reason) > 500:
        raise BlockRefused("Keep the reason to 500 characters.")
    with transaction.atomic():
        block, created = BlockedInstance.objects.get_or_create(
            domain=domain, defaults={"reason": reason.strip(), "created_by": by}
        )
        if not created:
            raise BlockRefused(f"{domain} is blocked already.")
        Follower.objects.filter(remote__domain=domain).delete()
        FederatedDelivery.objects.filter(
            status=FederatedDelivery.Status.QUEUED, inbox__istartswith=f"https://{domain}/"
        ).update(status=FederatedDelivery.Status.FAILED, error="instance blocked")
    return block


def unblock_instance(block: BlockedInstance) -> None:
    block.delete()
