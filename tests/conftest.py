"""Suite-wide settings: property-based tests are derandomized so CI runs are repeatable.

Hypothesis then explores the same examples on every run (no example database, which a fresh
clone would not have anyway), and without Hypothesis' 200 ms per-example deadline: a timing
heuristic, not any test's claim, that a loaded machine trips (test_wire's mutated streams: 290 ms
once, 0.4 ms on the re-run). `HYPOTHESIS_PROFILE=explore` runs random examples while developing.
Parallel runs (`make test`, pytest-xdist) start the longest tests first, one per worker.
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


# --- Parallel runs (`make test` uses pytest-xdist) ------------------------------------------
#: Modules whose tests take longest (tens of seconds to minutes of real time each, mostly
#: waiting on exposures and pulses), run first so that no worker starts one near the end: the
#: wall time of a parallel run is at least its longest test plus whatever that test waited
#: behind. Longest first (but see test_guiding); a module missing here only loses its place.
LONGEST_FIRST = (
    # One chain on one worker (ONE_WORKER): `make deb`, install, six tests, purge: 2-2.5 min
    # at load 11-20 on 2 cores, 6+ min at load 27.
    "tests/packaging/test_deb_install.py",
    "tests/e2e/test_guiding_frames.py",  # alt-az ~70 s, EQ ~27 s (fake clock x3)
    "tests/e2e/test_real_sky.py",  # 35-60 s: four rigs at once, then astrometry.net
    "tests/e2e/test_stack_live.py",
    "tests/e2e/test_camera_failures.py",
    "tests/e2e/test_stack_batch.py",
    "tests/e2e/test_stack_capture.py",
    "tests/bench/test_bench_tiny.py",
    "tests/e2e/test_camera_timing.py",
    "tests/e2e/test_camera_soak.py",
    # Pulse lengths to within 5 ms: not in the first wave, when every worker imports and
    # starts a rig at once (its first pulses failed twice in that burst).
    "tests/e2e/test_guiding.py",
    "tests/e2e/test_camera_abort.py",
    "tests/e2e/test_hostile_input.py",
    "tests/e2e/test_camera_darks.py",
)

#: Modules whose tests all go to one worker, in a row: their set-up is costly and cannot be
#: shared across workers (the Debian package is installed into the machine for the module's
#: tests, under a machine-wide lock: once per run, not once per worker that gets one of them).
ONE_WORKER = ("tests/packaging/test_deb_install.py",)


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


#: Tests whose claim is real-time precision (guide pulses to ~5 ms): `make test` runs them in a
#: pytest run of their own, one at a time, beside the rest which runs under `nice`
#: (tests/phases.py), so that no burst of the suite's other work (a worker starting a rig,
#: rendering frames) takes the CPU inside a 100 ms pulse. REALTIME_BUSY_MARK: wall-time claims
#: from tests that render frames themselves (guiding on frames, frame timing): a lane of their
#: own between the two.
REALTIME_MARK = "realtime"
REALTIME_BUSY_MARK = "realtime_busy"
WAITING_MARK = "waiting"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", f"{REALTIME_MARK}: real-time precision; make test runs these apart, at a higher priority")
    config.addinivalue_line(
        "markers", f"{REALTIME_BUSY_MARK}: wall-time claims, frames rendered in bursts; make test "
        "runs these in a lane of their own, between the rest and the realtime tests")
    config.addinivalue_line(
        "markers", f"{WAITING_MARK}: long and mostly asleep (on child processes, the fake's timings); "
        "make test runs these in a lane of their own beside the rest")


def pytest_collection_modifyitems(config, items):
    """Run LONGEST_FIRST's modules first, in that order; the rest keeps its order."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}

    def key(indexed):
        index, item = indexed
        return rank.get(_module(item.nodeid), len(rank)), index

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.hookimpl(optionalhook=True)  # an xdist hook: without xdist (`-p no:xdist`) it is unused
def pytest_xdist_make_scheduler(config, log):
    """`--dist load` dealing the first tests out one by one, round robin (longest first).

    xdist's own load scheduling hands each worker runs of consecutive tests (a quarter of its
    share at first, up to half of it later), so one worker would get every long test above in
    a row; and a worker always holds the test after the one it runs. Dealt one at a time, the
    N longest start at once on N workers and the next long ones go to whichever frees first.
    A ONE_WORKER module's tests are dealt together, to the worker that draws the first of them.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScheduling

    class RoundRobinStart(LoadScheduling):
        def schedule(self):
            if self.collection is not None or not self._check_nodes_have_same_collection():
                return super().schedule()
            self.collection = next(iter(self.node2collection.values()))
            self.pending[:] = range(len(self.collection))
            self.maxschedchunk = 1  # later too: one test at a time, each worker holding two
            for _ in range(2):  # two each: a worker runs a test once it knows the next
                for node in self.nodes:
                    if self.pending and len(self.node2pending[node]) < 2:
                        self._send_tests(node, 1)
            if not self.pending:
                for node in self.nodes:
                    node.shutdown()

        def _send_tests(self, node, num):
            """The next `num` tests, and with one of ONE_WORKER's every pending one of them."""
            chosen = set(self.pending[:num])
            if any(_module(self.collection[i]) in ONE_WORKER for i in chosen):
                chosen.update(i for i in self.pending if _module(self.collection[i]) in ONE_WORKER)
            tests = [i for i in self.pending if i in chosen]
            self.pending[:] = [i for i in self.pending if i not in chosen]
            self.node2pending[node].extend(tests)
            node.send_runtest_some(tests)

    return RoundRobinStart(config, log)
