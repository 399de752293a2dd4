"""What every benchmark needs: a production-like server on loopback and a
bounded concurrent load that reports throughput and latency."""

import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def ensure_database(url: str) -> None:
    """Create the bench database on the server if it does not exist."""
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def production_env(database_url: str, var_dir: str) -> dict[str, str]:
    """Production settings, less HTTPS (the bench speaks plain HTTP on loopback)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "TESTING", "CACHE_URL"}}
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
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def row(self) -> str:
        return (
            f"{self.name:<28} {self.rate:>9.0f} {self.percentile(50):>9.1f} {self.percentile(99):>9.1f} "
            f"{statistics.mean(self.latencies) * 1000:>9.1f} {self.errors:>7}"
        )


HEADER = f"{'target':<28} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9} {'errors':>7}"


def load(
    name: str, base: str, request: Callable[[int], tuple[str, str, bytes | None, dict]], total: int, concurrency: int
) -> Result:
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
    return Result(name, total, time.perf_counter() - started, latencies, errors)


def get(path: str) -> Callable[[int], tuple[str, str, None, dict]]:
    return lambda _i: ("GET", path, None, {"Host": "127.0.0.1"})


def temp_var_dir() -> str:
    return tempfile.mkdtemp(prefix="dispatch-bench-")
