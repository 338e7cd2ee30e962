"""`shop serve` with several workers: each listens on its own SO_REUSEPORT socket."""

import socket

import pytest

from entrypoints.serve import _ensure_free, _listening_socket


def test_connections_are_spread_over_the_workers_sockets() -> None:
    first = _listening_socket("127.0.0.1", 0, reuse_port=True)
    port = first.getsockname()[1]
    second = _listening_socket("127.0.0.1", port, reuse_port=True)
    for sock in (first, second):
        sock.listen(128)
        sock.setblocking(False)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
    accepted = []
    for sock in (first, second):
        count = 0
        while True:
            try:
                sock.accept()[0].close()
                count += 1
            except BlockingIOError:
                break
        accepted.append(count)
    for c in clients + [first, second]:
        c.close()
    # The kernel hashes each connection to one of the sockets: both get a share (all 64 on one: 2^-63).
    assert sum(accepted) == 64 and min(accepted) > 0, accepted


def test_serving_on_a_port_already_in_use_fails_instead_of_sharing_it() -> None:
    holder = _listening_socket("127.0.0.1", 0, reuse_port=True)  # even a server that allows sharing
    holder.listen(1)
    with pytest.raises(OSError):
        _ensure_free("127.0.0.1", holder.getsockname()[1])
    holder.close()
