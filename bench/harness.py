"""What every benchmark needs: a production-like server on loopback, a bare
Django floor to compare it with, and a load that reports throughput and
latency (wrk when installed, else Python threads)."""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
WRK = shutil.which("wrk")
# Each helper or CI job names its own database and cache so that runs never collide.
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dispatch_bench")
CACHE_URL = os.environ.get("BENCH_CACHE_URL", "")


def ensure_database(url: str) -> None:
    """Create the bench database on the server if it does not exist."""
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def production_env(database_url: str, var_dir: str, cache_url: str = CACHE_URL) -> dict[str, str]:
    """Production settings, less HTTPS (the bench speaks plain HTTP on loopback).

    `cache_url` is the shared cache (Redis in production); empty means each
    worker keeps its own local-memory cache."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "TESTING", "CACHE_URL"}}
    if cache_url:
        env["CACHE_URL"] = cache_url
    env.update(
        DEBUG="0",
        TESTING="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        DATABASE_URL=database_url,
        VAR_DIR=var_dir,
        STATIC_ROOT=os.path.join(var_dir, "static"),
        EMAIL_URL="console:",
        CELERY_TASK_ALWAYS_EAGER="1",
        # Every request comes from one address; with limits off the
        # per-process cache that the bench measures is allowed.
        RATELIMIT_ENABLED="0",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_demo(env: dict[str, str]) -> None:
    """Migrate, seed the demo content and collect the static files, as a fresh site."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--force", "--verbosity", "0")
    manage(env, "collectstatic", "--noinput")


def shell(env: dict[str, str], code: str) -> str:
    """What `code` prints, run by `manage.py shell` in the bench's settings; its error ends the bench."""
    command = [PYTHON, "manage.py", "shell", "--no-imports", "-c", code]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"manage.py shell failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


# Run in the bench's own settings, so the count is the production page's.
COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
for name, value in json.loads(COOKIES).items():
    client.cookies[name] = value
client.get(PATH)
with CaptureQueriesContext(connection) as queries:
    response = client.get(PATH, headers=json.loads(HEADERS))
assert response.status_code == 200, response.status_code
assert EXPECT.encode() in response.content, "the page lacks " + EXPECT
print(len(queries), len(response.content))
"""


def count_queries(
    env: dict[str, str],
    path: str,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    expect: str = "",
) -> tuple[int, int]:
    """SQL queries and size of a page's second load (so a cached page shows what a hit costs):
    `cookies` on both loads, `headers` on the counted one; `expect` must be in the page."""
    values = {
        "COOKIES": json.dumps(cookies or {}),
        "HEADERS": json.dumps(headers or {}),
        "PATH": path,
        "EXPECT": expect,
    }
    code = re.sub(r"\b(COOKIES|HEADERS|PATH|EXPECT)\b", lambda found: repr(values[found[1]]), COUNT_QUERIES)
    queries, size = shell(env, code).split()[-2:]
    return int(queries), int(size)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int = 2, app: str = "config.wsgi", ready_path: str = "/healthz"
) -> Iterator[str]:
    """Start gunicorn with `workers` sync workers; yield its base URL."""
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + ready_path, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not come up") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def hello(env: dict[str, str], workers: int = 2) -> "AbstractContextManager[str]":
    """The bare Django hello (bench/hello.py) on the same gunicorn, same options."""
    return gunicorn(env, workers, app="bench.hello:application", ready_path="/")


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50: float  # milliseconds
    p99: float
    mean: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        return f"{self.name:<34} {self.rate:>9.0f} {self.p50:>9.1f} {self.p99:>9.1f} {self.mean:>9.1f} {self.errors:>7}"

    @classmethod
    def from_latencies(cls, name: str, seconds: float, latencies: list[float], errors: int) -> "Result":
        ordered = sorted(latencies)

        def percentile(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

        mean = statistics.mean(ordered) * 1000
        return cls(name, len(ordered), seconds, percentile(50), percentile(99), mean, errors)


HEADER = f"{'target':<34} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'errors':>7}"


def load(name: str, base: str, request: Callable[[int], "Request"], total: int, concurrency: int) -> Result:
    """Send `total` requests from `concurrency` threads; request(i) gives method, path, body, headers."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            method, path, body, headers = request(i)
            started = time.perf_counter()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except OSError:
                ok = False
            finally:
                conn.close()
            with lock:
                latencies.append(time.perf_counter() - started)
                errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result.from_latencies(name, time.perf_counter() - started, latencies, errors)


# A request as the load generators send it: method, path, body, headers.
Request = tuple[str, str, bytes | None, dict[str, str]]
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CSRF_SECRET = "c" * 32  # a well-formed CSRF cookie (an unmasked secret)


def page(path: str, session: str) -> Callable[[int], Request]:
    """A page as a browser asks for it, so that page-view counting runs as for a reader."""
    headers = {"Host": "127.0.0.1", "User-Agent": BROWSER, "Accept": "text/html", "Accept-Language": "en"}
    if session:  # and the CSRF cookie the site set on their first page, as a browser keeps it
        headers["Cookie"] = f"sessionid={session}; csrftoken={CSRF_SECRET}"
    return lambda _i: ("GET", path, None, headers)


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


WRK_SCRIPT = """
local requests = {%s}
local i = 0
request = function()
  i = i + 1
  local r = requests[(i %% #requests) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-JSON {\\"requests\\": %%d, \\"us\\": %%d, \\"p50\\": %%d, \\"p99\\": %%d, "
    .. "\\"mean\\": %%f, \\"errors\\": %%d}\\n", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.mean, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def run_wrk(
    name: str, base: str, requests: list[Request], seconds: float = 5, connections: int = 32, threads: int = 2
) -> Result:
    """wrk -t2 -c32 cycling through `requests`; any status >= 400 counts as an error."""
    rows = []
    for method, path, body, headers in requests:
        header_table = ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items())
        payload = _lua(body.decode()) if body else "nil"
        rows.append(f"{{{_lua(method)}, {_lua(path)}, {{{header_table}}}, {payload}}}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % ",\n".join(rows))
    if WRK is None:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    try:
        command = [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            script.name,
            base + "/",
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("WRK-JSON "))
    data = json.loads(line.removeprefix("WRK-JSON "))
    return Result(
        name, data["requests"], data["us"] / 1e6, data["p50"] / 1000, data["p99"] / 1000, data["mean"] / 1000,
        data["errors"],
    )  # fmt: skip


def measure(
    name: str,
    base: str,
    request: Callable[[int], Request],
    total: int,
    concurrency: int,
    seconds: float = 5,
    variants: int = 1,
) -> Result:
    """wrk when installed (`variants` distinct requests cycled), else `total` requests from threads."""
    if WRK:
        return run_wrk(name, base, [request(i) for i in range(variants)], seconds, connections=concurrency)
    return load(name, base, request, total, concurrency)


def combined(name: str, parts: list[Result]) -> Result:
    """Several short runs of one target as one: p50 the median of theirs, p99 the worst."""
    requests = sum(part.requests for part in parts)
    mean = sum(part.mean * part.requests for part in parts) / max(requests, 1)
    return Result(
        name, requests, sum(part.seconds for part in parts), statistics.median(part.p50 for part in parts),
        max(part.p99 for part in parts), mean, sum(part.errors for part in parts),
    )  # fmt: skip


def interleaved(
    a: tuple[str, str, Callable[[int], Request]],
    b: tuple[str, str, Callable[[int], Request]],
    seconds: float,
    concurrency: int,
    rounds: int = 5,
    variants: int = 1,
    total: int = 2000,
) -> tuple[Result, Result]:
    """Targets a and b (name, base URL, request) in alternating short runs, so that
    whatever else the shared machine does weighs on both alike; ratios compare these."""
    runs: tuple[list[Result], list[Result]] = ([], [])
    for _ in range(rounds):
        for (name, base, request), results in zip((a, b), runs, strict=True):
            results.append(measure(name, base, request, total // rounds, concurrency, seconds / rounds, variants))
            drain(base)
    return combined(a[0], runs[0]), combined(b[0], runs[1])


def against_hello(
    env: dict[str, str],
    targets: dict[str, Callable[[int], Request]],
    hello_request: Callable[[int], Request],
    args: argparse.Namespace,
    variants: int = 1,
    warm_up: tuple[int, int, int] = (40, 200, 4),
) -> list[tuple[Result, Result]]:
    """Each target alternating with the bare Django hello: the machine is shared, so
    each ratio is taken in one stretch. `warm_up`: requests per target and for the
    hello, and their connections, sent first to warm both workers' caches."""
    pairs = []
    per_target, for_hello, connections = warm_up
    with gunicorn(env) as base, hello(env) as hello_base:
        for request in targets.values():
            load("warm-up", base, request, per_target, connections)
        load("warm-up", hello_base, hello_request, for_hello, connections)
        for name, request in targets.items():
            pairs.append(interleaved((name, base, request), ("hello", hello_base, hello_request), args.seconds,
                                     args.concurrency, variants=variants, total=args.requests))  # fmt: skip
    return pairs


def add_load_arguments(parser: argparse.ArgumentParser, requests: int = 2000, concurrency: int = 32) -> None:
    parser.add_argument("--seconds", type=float, default=5, help="wrk duration per target")
    parser.add_argument("--requests", type=int, default=requests, help="requests per target without wrk")
    parser.add_argument("--concurrency", type=int, default=concurrency, help="connections")
    parser.add_argument("--database-url", default=DATABASE_URL)


def load_by(args: argparse.Namespace) -> str:
    return f"wrk -t2 -c{args.concurrency} -d{args.seconds:g}s" if WRK else f"{args.concurrency} Python threads"


MACHINE = f"machine: {os.cpu_count()} cores; the load generator runs on the same machine"


def ratio_row(result: Result, floor: Result) -> str:
    """A target's row, then its baseline's rate and p99 and the target's share of its rate."""
    return result.row() + f" {floor.rate:>9.0f} {floor.p99:>9.1f} {result.rate / floor.rate:>7.3f}"


def drain(base: str, path: str = "/robots.txt", timeout: float = 60) -> None:
    """Wait until requests left queued by the last load are served (sync workers keep a backlog)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        with suppress(OSError):
            urllib.request.urlopen(base + path, timeout=timeout)
        if time.monotonic() - started < 0.05:
            return


def get(path: str) -> Callable[[int], Request]:
    return lambda _i: ("GET", path, None, {"Host": "127.0.0.1"})


def temp_var_dir() -> str:
    return tempfile.mkdtemp(prefix="dispatch-bench-")
