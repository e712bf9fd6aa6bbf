"""Child process of test_client_lifetime: a slow libindi client let go while its thread calls back.

`python -m tests.bench.lifetime_child {bench|recording} {close|disconnect|drop}`: indiserver runs
the driver, a client whose callbacks take 100 ms each (a loaded machine) connects, and once it has
a few definitions it is closed, disconnected (what the benchmarks did) and dropped, or simply
dropped, with the driver's other ~200 definitions still
arriving: more than libindi's 2 s disconnect wait. Exit 0 and "survived" on stdout when the
process lives on; before issue 10's fix this ended in std::terminate or AttributeErrors.
"""

from __future__ import annotations

import sys
import time

from bench.client import bench_client_class
from bench.procs import DRIVER, Stage
from tests.support.indi_harness import recording_client_class, until

CALLBACK_S = 0.1


def slow_client_class(kind: str) -> type:
    """The client class with every callback slowed by CALLBACK_S."""
    base = bench_client_class() if kind == "bench" else recording_client_class()
    hook = "_note" if kind == "bench" else "_record"

    def slowed(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - a test double
        time.sleep(CALLBACK_S)
        return getattr(base, hook)(self, *args, **kwargs)

    return type(f"Slow{base.__name__}", (base,), {hook: slowed})


def definitions(client: object, kind: str) -> int:
    return len(client.seen) if kind == "bench" else len(client.updates(event="def"))


def let_go(cls: type, port: int, kind: str, how: str) -> float:
    """Connect, wait for five definitions, let the client go `how`; seconds that took."""
    client = cls()
    client.setServer("127.0.0.1", port)
    assert client.connectServer()
    until(lambda: definitions(client, kind) >= 5, 30, what="five definitions")
    t0 = time.monotonic()
    if how == "close":
        client.close()
    elif how == "disconnect":
        client.disconnectServer()  # waits 2 s at most, then returns False
    return time.monotonic() - t0  # the last reference goes with this frame


def main(kind: str, how: str) -> int:
    cls = slow_client_class(kind)
    with Stage.make() as stage:
        server = stage.server(stage.env())
        server.start([DRIVER])
        try:
            print(f"let go after {let_go(cls, server.port, kind, how):.2f} s", flush=True)
            time.sleep(1.0)  # any late callback lands now
        finally:
            server.stop()
    print("survived", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
