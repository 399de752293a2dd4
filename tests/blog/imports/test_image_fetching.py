"""Imported images are fetched from the open internet only: an export cannot make the worker call
loopback, the private network or the cloud's metadata service, directly or through a redirect, and the
report never echoes a network error (docs/security.md, "Imports and restores").

Real servers on 127.0.0.1 and 127.0.0.2 stand in for the worker's neighbours; a test that needs one to be
reachable names its address in IMPORT_FETCH_ALLOWED_NETWORKS, as no production site does."""

import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from blog.models import Post
from blog.shared import outbound
from blog.transfers.imports import media
from tests.blog.imports.conftest import FIXTURES, png

pytestmark = pytest.mark.django_db

Answer = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def fake_images() -> list[str]:
    """These tests fetch for real (the package's conftest fakes the fetching for all others)."""
    return []


class Server:
    """An HTTP server on a loopback address, answering with `answer` and keeping each path asked for."""

    def __init__(self, host: str, answer: Answer) -> None:
        self.asked: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.asked.append(self.path)
                answer(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        # close() waits out one poll: 0.05 s, not the default 0.5 s
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[str, Answer], Server]]:
    servers: list[Server] = []

    def start(host: str, answer: Answer) -> Server:
        servers.append(Server(host, answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def a_png(handler: BaseHTTPRequestHandler) -> None:
    body = png(5, 4)
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect_to(location: str) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def ghost_export(tmp_path: Path, cover_url: str) -> Path:
    """Ghost's export (tests/fixtures/ghost) with the cover of "The bridge vote" at `cover_url`."""
    document = json.loads((FIXTURES / "ghost" / "export.json").read_text())
    for post in document["db"][0]["data"]["posts"]:
        if post["slug"] == "the-bridge-vote":
            post["feature_image"] = cover_url
    path = tmp_path / "ghost.json"
    path.write_text(json.dumps(document))
    return path


def import_cover(tmp_path: Path, cover_url: str) -> str:
    """Import the export from the command line; what it printed."""
    out = StringIO()
    call_command("import_publication", str(ghost_export(tmp_path, cover_url)), stdout=out, stderr=StringIO())
    return out.getvalue()


def bridge_cover() -> str:
    return Post.objects.get(slug="the-bridge-vote").cover.name


def test_an_image_on_loopback_is_never_asked_for(tmp_path, serve) -> None:
    neighbour = serve("127.0.0.1", a_png)

    report = import_cover(tmp_path, f"{neighbour.url}/cover.png")

    assert neighbour.asked == []
    assert (
        f"image not copied: could not fetch {neighbour.url}/cover.png; “The bridge vote” has no cover image" in report
    )
    assert bridge_cover() == ""


def test_a_name_for_loopback_is_refused_too(tmp_path, serve) -> None:
    neighbour = serve("127.0.0.1", a_png)
    port = neighbour.url.rsplit(":", 1)[1]

    import_cover(tmp_path, f"http://localhost:{port}/cover.png")

    assert neighbour.asked == []


def test_a_redirect_to_loopback_is_not_followed(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]  # "the internet", for this test
    neighbour = serve("127.0.0.1", a_png)
    outside = serve("127.0.0.2", redirect_to(f"{neighbour.url}/admin.png"))

    report = import_cover(tmp_path, f"{outside.url}/cover.png")

    assert outside.asked == ["/cover.png"] and neighbour.asked == []
    assert f"could not fetch {outside.url}/cover.png;" in report
    assert bridge_cover() == ""


def test_a_redirect_to_the_metadata_service_is_not_followed(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    outside = serve("127.0.0.2", redirect_to("http://169.254.169.254/latest/meta-data/iam/"))

    report = import_cover(tmp_path, f"{outside.url}/cover.png")

    assert f"could not fetch {outside.url}/cover.png;" in report
    assert bridge_cover() == ""


def test_an_image_from_the_open_internet_is_copied_through_redirects(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    images = serve("127.0.0.2", a_png)
    outside = serve("127.0.0.2", redirect_to(f"{images.url}/real-cover.png"))

    import_cover(tmp_path, f"{outside.url}/cover.png")

    assert images.asked == ["/real-cover.png"]
    assert bridge_cover().startswith("imports/")


def test_endless_redirects_stop(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    loop = serve("127.0.0.2", lambda handler: redirect_to(f"{loop.url}{handler.path}x")(handler))

    report = import_cover(tmp_path, f"{loop.url}/cover.png")

    assert len(loop.asked) == media.MAX_REDIRECTS + 1
    assert f"could not fetch {loop.url}/cover.png;" in report


def test_a_closed_port_reads_could_not_fetch_and_nothing_more(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    closed = serve("127.0.0.2", a_png)
    closed.close()  # the port no longer answers: the network says "connection refused"

    report = import_cover(tmp_path, f"{closed.url}/cover.png")

    assert f"image not copied: could not fetch {closed.url}/cover.png; “The bridge vote” has no cover image" in report
    assert "refused" not in report.lower() and "errno" not in report.lower()


def test_an_image_too_large_is_not_read_to_the_end(tmp_path, serve, settings) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.end_headers()
        block = b"\0" * 65536
        try:
            for _ in range(media.MAX_IMAGE_BYTES // len(block) + 50):
                handler.wfile.write(block)
        except OSError:
            pass  # the importer hung up, as it should

    big = serve("127.0.0.2", endless)

    report = import_cover(tmp_path, f"{big.url}/cover.png")

    assert f"could not fetch {big.url}/cover.png: it is larger than 15 MB;" in report


def test_a_server_sending_slowly_is_given_up_on(tmp_path, serve, settings, monkeypatch) -> None:
    settings.IMPORT_FETCH_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    monkeypatch.setattr(media, "TOTAL_SECONDS", 1)

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.end_headers()
        try:
            for _ in range(50):
                handler.wfile.write(b"\0")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    slow = serve("127.0.0.2", trickle)
    started = time.monotonic()

    report = import_cover(tmp_path, f"{slow.url}/cover.png")

    assert time.monotonic() - started < 4
    assert f"could not fetch {slow.url}/cover.png;" in report


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.100.100.200", "0.0.0.0",
        "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe",
    ],
)  # fmt: skip
def test_no_neighbour_of_the_worker_counts_as_public(address: str) -> None:
    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700:4700::1111", "::ffff:93.184.215.14"])
def test_addresses_on_the_internet_do(address: str) -> None:
    assert outbound.is_public(ipaddress.ip_address(address))
