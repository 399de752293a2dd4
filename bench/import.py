"""Moving a large publication in and out.

    .venv/bin/python bench/import.py [--posts 2000] [--comments 5] [--subscribers 100000] [--database-url URL]

Generates a Substack-shaped export (posts.csv, one HTML body of about 5 KB a
post with a quote, a footnote, a list and a table, and an e-mail list of
mixed states) and a WordPress file of the same posts with `--comments` each,
imports the WordPress posts with their comments, then the Substack list,
into a fresh database (PostgreSQL, or SQLite with `--database-url
sqlite:///path`) with production settings, then exports the result. Import and export each run in their own
process, so each peak memory (maxrss) is that step's alone, and each prints
its CPU time beside the wall time (on a shared machine the CPU time is the
steadier figure to compare). Bodies carry no
images: downloads would measure the network, not Dispatch.
"""

import argparse
import csv
import io
import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import PYTHON, ROOT, manage, production_env, temp_var_dir

BODY = """<p>Paragraph {n} of the argument about the harbour, with <a href="https://example.org/{n}">a source</a>
and <strong>a claim</strong> worth checking.<a class="footnote-anchor" id="footnote-anchor-1"
href="#footnote-1">1</a></p>
<blockquote><p>We have argued about this bridge for eleven years.</p><p>— Councillor {n}</p></blockquote>
{filler}
<ul><li>One point</li><li>Another point</li><li>A third</li></ul>
<table><thead><tr><th>Item</th><th>2024</th><th>2025</th></tr></thead>
<tbody><tr><td>Bridge</td><td>£12m</td><td>£18m</td></tr><tr><td>Ferry</td><td>£3m</td><td>£2m</td></tr></tbody></table>
<div class="footnote"><a id="footnote-1" href="#footnote-anchor-1" class="footnote-number">1</a>
<div class="footnote-content"><p>Council minutes, item {n}.</p></div></div>
"""
FILLER = "<p>" + "The council's figures do not add up, and the reports leave out the ferry. " * 6 + "</p>\n"


WXR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<title>Bench</title><wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://bench.example</wp:base_site_url>
"""


def generate_wxr(target: Path, posts: int, comments: int) -> None:
    """The same posts as a WordPress file, each with `comments` comments (every third a reply)."""
    with target.open("w", encoding="utf-8") as out:
        out.write(WXR_HEAD)
        for n in range(posts):
            body = BODY.format(n=n, filler=FILLER * 8)
            out.write(f"<item><title>Post number {n}</title><dc:creator>owner</dc:creator>"
                      f"<content:encoded><![CDATA[{body}]]></content:encoded><wp:post_id>{n + 1}</wp:post_id>"
                      f"<wp:post_date>2024-01-01 09:00:00</wp:post_date><wp:post_name>wp-post-{n}</wp:post_name>"
                      "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>")  # fmt: skip
            for c in range(comments):
                cid = n * comments + c + 1
                parent = cid - 1 if c % 3 == 2 else 0
                out.write(f"<wp:comment><wp:comment_id>{cid}</wp:comment_id><wp:comment_author>Reader {c}"
                          f"</wp:comment_author><wp:comment_author_email>reader{c}@example.com"
                          "</wp:comment_author_email><wp:comment_date_gmt>2024-01-02 10:00:00</wp:comment_date_gmt>"
                          f"<wp:comment_content>Comment {c} on post {n}, agreeing mostly.</wp:comment_content>"
                          "<wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>"
                          f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>")  # fmt: skip
            out.write("</item>\n")
        out.write("</channel></rss>\n")


def generate(target: Path, posts: int, subscribers: int) -> None:
    rng = random.Random(14)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["post_id", "post_date", "is_published", "email_sent_at", "inbox_sent_at", "type", "audience",
                         "title", "subtitle", "podcast_url"])  # fmt: skip
        for n in range(posts):
            post_id = f"{100000 + n}.post-number-{n}"
            published = n % 10 != 0
            date = f"20{20 + n % 5}-{1 + n % 12:02d}-{1 + n % 28:02d}T09:00:00.000Z"
            writer.writerow([post_id, date, str(published).lower(), "", "", "newsletter", "everyone",
                             f"Post number {n}", f"The subtitle of post {n}", ""])  # fmt: skip
            archive.writestr(f"posts/{post_id}.html", BODY.format(n=n, filler=FILLER * 8))
        archive.writestr("posts.csv", rows.getvalue())
        with archive.open("email_list.bench.csv", "w") as member:
            text = io.TextIOWrapper(member, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(["email", "active_subscription", "expiry", "plan", "email_disabled", "created_at",
                             "first_payment_at"])  # fmt: skip
            for n in range(subscribers):
                active = rng.random() < 0.85
                paid = rng.random() < 0.05
                writer.writerow([f"reader{n}@example.com", str(active).lower(), "", "yearly" if paid else "",
                                 "false", "2023-05-05T08:00:00.000Z", ""])  # fmt: skip
            text.flush()
            text.detach()


CHILD = """
import json, resource, sys, time
from pathlib import Path
import django
django.setup()
step, path = sys.argv[1], Path(sys.argv[2])
started = time.perf_counter()
if step == "import":
    from blog.transfers.imports import run_import
    report = run_import(path)
    assert not report.refused, report.refused
    extra = report.counts
else:
    from blog.transfers.exports import export_publication
    extra = export_publication(path)
seconds = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "maxrss_mb": usage.ru_maxrss / 1024,
                  "extra": extra}))
"""


def run_child(env: dict[str, str], step: str, path: Path) -> dict[str, Any]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([PYTHON, "-c", CHILD, step, str(path)], cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{step} failed:\n{result.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def recreate_database(url: str) -> None:
    if url.startswith("sqlite:"):
        Path(url.split(":///", 1)[1]).unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=5, help="comments on each WordPress post")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/dispatch_bench_import")
    args = parser.parse_args()

    var_dir = Path(temp_var_dir())
    export_zip = var_dir / "substack-export.zip"
    started = time.perf_counter()
    generate(export_zip, args.posts, args.subscribers)
    print(f"generated {export_zip.stat().st_size / 1024**2:.1f} MB export in {time.perf_counter() - started:.1f} s "
          f"({args.posts} posts, {args.subscribers} subscribers)")  # fmt: skip

    wxr = var_dir / "wordpress.xml"
    generate_wxr(wxr, args.posts, args.comments)
    recreate_database(args.database_url)
    env = production_env(args.database_url, str(var_dir))
    manage(env, "migrate", "--noinput")
    code = "from accounts.models import User; User.objects.create_user('owner', 'owner@example.com', is_staff=True)"
    manage(env, "shell", "-c", code)

    wordpress = run_child(env, "import", wxr)
    print(f"import WordPress, {args.posts} posts with {args.comments} comments each: {wordpress['seconds']:.1f} s "
          f"({wordpress['cpu']:.1f} s of CPU), "
          f"peak memory {wordpress['maxrss_mb']:.0f} MB; {wordpress['extra']}")  # fmt: skip
    imported = run_child(env, "import", export_zip)
    print(f"import Substack, {args.posts} posts and {args.subscribers} subscribers: {imported['seconds']:.1f} s "
          f"({imported['cpu']:.1f} s of CPU), "
          f"peak memory {imported['maxrss_mb']:.0f} MB; {imported['extra']}")  # fmt: skip
    out = var_dir / "dispatch-export.zip"
    exported = run_child(env, "export", out)
    print(f"export: {exported['seconds']:.1f} s, peak memory {exported['maxrss_mb']:.0f} MB, "
          f"{out.stat().st_size / 1024**2:.1f} MB written")  # fmt: skip


if __name__ == "__main__":
    main()
