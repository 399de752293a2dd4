"""Every way Dispatch reaches a server named by someone else (an imported
image, a webhook, federation) refuses the same neighbours of the worker,
through the one rule in blog/shared/outbound.py."""

from collections.abc import Callable

import pytest

from blog.federation import network
from blog.integrations.webhooks import TargetRefused, check_url
from blog.transfers.imports import media


def fetch_image(url: str) -> None:
    media.fetch(url)


def federation(url: str) -> None:
    network.resolve(url.replace("http://", "https://"))


REFUSALS: dict[str, tuple[Callable[[str], None], type[Exception]]] = {
    "image": (fetch_image, media.ImageFailed),
    "webhook": (check_url, TargetRefused),
    "federation": (federation, network.RefusedAddress),
}
NEIGHBOURS = ["127.0.0.1", "10.0.0.5", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "[2002:7f00:1::1]",
              "[fd00:ec2::254]"]  # fmt: skip


@pytest.mark.parametrize("way", sorted(REFUSALS))
@pytest.mark.parametrize("host", NEIGHBOURS)
def test_no_way_out_reaches_a_neighbour_of_the_worker(way: str, host: str) -> None:
    call, refused = REFUSALS[way]
    with pytest.raises(refused):
        call(f"http://{host}/x")


def test_the_test_switches_open_only_their_own_way(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    check_url("http://127.0.0.1/hook")
    with pytest.raises(network.RefusedAddress):
        network.resolve("https://127.0.0.1/inbox")
    with pytest.raises(media.ImageFailed):
        media.fetch("http://127.0.0.1/x.png")
