"""What every benchmark needs: a production-like server on loopback, a bare
Django floor to compare it with, and a load that reports throughput and
latency (wrk when installed, else Python threads)."""

import http.client
import json
import os
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
