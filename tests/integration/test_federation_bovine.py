"""Dispatch against a third-party ActivityPub server: bovine-herd (PyPI), on loopback.

Runs when BOVINE_PYTHON names a Python with `bovine-herd` installed (.ci/run
makes one in var/bovine); it is not one of the project's dependencies. A
bovine account follows the publication, gets the Article, likes, boosts and
replies (held on Dispatch), and unfollows."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import _free_port, _reachable
from tests.integration.test_federation_two_sites import SEED_A, Browser, Site, _site, fresh_schemas, wait_for

pytestmark = pytest.mark.integration
BOVINE_PYTHON = os.environ.get("BOVINE_PYTHON", "")

CLIENT = """
import asyncio, json, sys
from bovine import BovineClient

async def main(domain, secret, action, target, extra):
    async with BovineClient(domain=domain, secret=secret) as client:
        if action == "inbox":
            collection = await client.inbox().as_collection()
            for item in collection.get("items", []):
                obj = item.get("object")
                print(item.get("type"), obj.get("name") if isinstance(obj, dict) else obj)
            return
        factory = client.activity_factory
        if action == "follow":
            activity = factory.follow(target).build()
        elif action == "like":
            activity = factory.like(target).build()
        elif action == "announce":
            activity = factory.announce(target).as_public().build()
        elif action == "reply":
            note = client.object_factory.note(content=extra, to={target}).as_public().build()
            note["inReplyTo"] = target
            activity = factory.create(note).build()
        else:  # undo the follow whose id is `extra`
            follow = {"id": extra, "type": "Follow", "actor": client.actor_id, "object": target}
            activity = factory.undo(follow).build()
        activity["to"] = sorted({*activity.get("to", []), target.split("/ap/")[0] + "/ap/publication"})
        response = await client.send_to_outbox(activity)
        print(response.status, response.headers.get("location", ""))

asyncio.run(main(*sys.argv[1:6]))
"""


class Bovine:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "BOVINE_DB_URL": f"sqlite://{directory}/bovine.sqlite3"}
        self.process: subprocess.Popen | None = None
        self.secret = ""

    def run(self, *args: str) -> str:
        done = subprocess.run([BOVINE_PYTHON, *args], cwd=self.directory, env=self.env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def start(self) -> None:
        self.run("-m", "bovine_store", "create")
        name = self.run("-m", "bovine_store", "register", "--domain", self.url, "--handle", "alice").split()[-1]
        self.secret = self.run("-m", "bovine_store", "key", "--new", name).split()[-1]
        (self.directory / "app.py").write_text(
            "from quart import Quart\nfrom bovine_herd import BovineHerd\n"
            f"app = Quart(__name__)\nBovineHerd(app, db_url='{self.env['BOVINE_DB_URL']}')\n"
        )
        (self.directory / "client.py").write_text(CLIENT)
        log = open(self.directory / "bovine.log", "w")  # noqa: SIM115
        command = [BOVINE_PYTHON, "-m", "hypercorn", "-b", f"127.0.0.1:{self.port}", "app:app"]
        self.process = subprocess.Popen(command, cwd=self.directory, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not _reachable(self.url, 80):
            assert time.monotonic() < deadline and self.process.poll() is None, "bovine did not start"
            time.sleep(0.2)

    def client(self, action: str, target: str, extra: str = "") -> str:
        return self.run("client.py", self.url, self.secret, action, target, extra)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


def test_a_bovine_account_follows_likes_boosts_replies_and_unfollows(tmp_path: Path) -> None:
    if not BOVINE_PYTHON:
        pytest.skip("optional third-party server: set BOVINE_PYTHON to a Python with bovine-herd installed")
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("CACHE_URL", "")
    if not (database_url.startswith("postgres") and redis_url.startswith("redis")):
        pytest.skip("needs DATABASE_URL (PostgreSQL) and CACHE_URL (Redis)")
    base = fresh_schemas(database_url, "fed_bovine")
    site: Site = _site("a", "localhost", "fed_bovine", base, redis_url.rsplit("/", 1)[0] + "/6", tmp_path)
    site.manage("migrate", "--noinput")
    site.manage("shell", "-c", SEED_A)
    bovine = Bovine(tmp_path / "bovine")
    bovine.directory.mkdir()
    try:
        site.start()
        bovine.start()
        publication = f"{site.url}/ap/publication"
        followers = lambda: Browser(site).get("/ap/actors/publication/followers", "application/activity+json")[1]  # noqa: E731
        follow_id = bovine.client("follow", publication).split()[-1]
        wait_for(lambda: '"totalItems": 1' in followers(), "Dispatch to count the bovine follower")
        wait_for(lambda: "Accept" in bovine.client("inbox", publication), "Dispatch's Accept at bovine")

        ada = Browser(site)
        ada.log_in("ada@a.example")
        post_pk = re.search(r"/write/(\d+)/", ada.get("/write/")[1]).group(1)
        ada.get(f"/write/{post_pk}/publish/")
        assert ada.post(f"/write/{post_pk}/publish/", {"delivery": "web"})[0] == 200
        wait_for(
            lambda: "Create Tides of the North Sea" in bovine.client("inbox", publication), "the Article at bovine"
        )

        article = f"{site.url}/ap/articles/{post_pk}"
        for action, extra in (("like", ""), ("announce", ""), ("reply", "<p>Moo from bovine</p>")):
            assert bovine.client(action, article, extra).startswith("201")
        milo = Browser(site)
        milo.log_in("milo@a.example")
        wait_for(lambda: "Like, 1 like" in milo.get("/p/tides-of-the-north-sea/")[1], "bovine's like")
        wait_for(lambda: f"@alice@127.0.0.1:{bovine.port}" in milo.get("/p/tides-of-the-north-sea/")[1], "the boost")
        wait_for(lambda: "Moo from bovine" in milo.get("/moderation/")[1], "the held reply")

        assert bovine.client("undo", publication, follow_id).startswith("201")
        wait_for(lambda: '"totalItems": 0' in followers(), "Dispatch to drop the bovine follower")
    finally:
        bovine.stop()
        site.stop()
