"""Run a loopback ``socketserver`` on a daemon thread, and take it down cleanly."""

from __future__ import annotations

import socketserver
import threading
from typing import Self


class ServerThread:
    """One listening server and the daemon thread that serves it until :meth:`stop`.

    ``poll_interval`` bounds how long :meth:`stop` waits for ``serve_forever`` to notice the
    shutdown request, so short-lived test sandboxes pick a small one.
    """

    def __init__(self, server: socketserver.BaseServer, *, name: str, poll_interval: float = 0.5) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name=name, daemon=True
        )

    @classmethod
    def start(cls, server: socketserver.BaseServer, *, name: str, poll_interval: float = 0.5) -> Self:
        serving = cls(server, name=name, poll_interval=poll_interval)
        serving._thread.start()
        return serving

    @property
    def port(self) -> int:
        address = self.server.server_address
        assert isinstance(address, tuple)  # TCP servers only: (host, port)
        return int(address[1])

    def wait(self) -> None:
        """Block until another thread calls :meth:`stop`."""
        self._thread.join()

    def stop(self, join_timeout: float = 5.0) -> None:
        """Stop accepting, close the listening socket, and wait for the serving thread."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=join_timeout)
