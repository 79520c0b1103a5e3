"""An embedded CX Console in a child process, for `make demo` and for `simulate --compare`.

The child runs `manage.py runembedded` in a session of its own, so a Ctrl-C in the terminal
reaches only the simulator, which prints its table and then stops the server itself.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

# Every simulated shopper calls from 127.0.0.1, so the per-address shopper throttle would count
# them as one person: the servers started here allow a crowd.
CROWD_SHOPPER_RATE = "100000/minute"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    def __init__(
        self,
        *,
        manage_py: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        sqlite_path: Path | None = None,
        log: IO[str] | None = None,
    ) -> None:
        self.manage_py = manage_py
        self.host = host
        self.port = port or free_port(host)
        self.log = log
        self.env = dict(os.environ)
        self.env["SHOPPER_THROTTLE_RATE"] = CROWD_SHOPPER_RATE
        if sqlite_path is not None:
            # A throwaway database of its own: embedded, whatever this shell points at.
            self.env = {k: v for k, v in self.env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
            self.env["SQLITE_PATH"] = str(sqlite_path)
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def manage(self, *args: str) -> None:
        """Run a management command against this server's database (fails loudly)."""
        subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, str(self.manage_py), *args],
            env=self.env,
            check=True,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def prepare(self, *, generic_pool: bool = False) -> None:
        """A fresh database: schema, the demo's agents and queues, optionally one generic pool."""
        self.manage("migrate", "--noinput")
        self.manage("seed_demo")
        if generic_pool:
            self.manage("generic_pool")

    def start(self, *, ready_within: float = 90.0) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, str(self.manage_py), "runembedded", "--host", self.host, "--port", str(self.port)],
            env=self.env,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The embedded server exited with {self.process.returncode}.")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"The embedded server did not answer on {self.url} within {ready_within:.0f} s.")

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGINT (uvicorn's clean shutdown), then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
