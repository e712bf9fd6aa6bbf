"""Fixtures for engine tests against the fake Seestar on 127.0.0.1 (its own loop, in a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from indi_seestar.config import SeestarConfig
from indi_seestar.seestar.client import SeestarClient
from indi_seestar.seestar.timeouts import Timeouts
from indi_seestar.sim import FakeSeestar, SimThread

#: Short heartbeats and backoff so that drops are noticed and repaired in well under a second.
FAST = Timeouts(request_s=5.0, verify_probe_s=2.0, login_probe_s=2.0, heartbeat_interval_s=0.3,
                heartbeat_reply_s=0.3, reconnect_initial_s=0.05, reconnect_max_s=0.5,
                image_poll_s=0.05, image_heartbeat_interval_s=1.0, image_silence_s=5.0,
                stacked_after_ack_s=1.0)


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes


@pytest.fixture(scope="session")
def keypair() -> KeyPair:
    """A test-generated login key (the fake checks signatures with its public half)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private, public)


@pytest.fixture
def key_file(tmp_path: Path, keypair: KeyPair) -> Path:
    path = tmp_path / "seestar.pem"
    path.write_bytes(keypair.private_pem)
    return path


@contextlib.contextmanager
def running_fake(**kwargs: Any) -> Iterator[tuple[SimThread, FakeSeestar]]:
    """A FakeSeestar on its own event loop in a thread, stopped on exit."""
    sim = SimThread(**kwargs)
    fake = sim.start()
    try:
        yield sim, fake
    finally:
        sim.stop()


def config_for(fake: FakeSeestar, *, key_file: Path | None = None, time_factor: float = 1.0,
               readout_margin_s: float = 0.3) -> SeestarConfig:
    """A client configuration pointing at the fake (loopback only)."""
    return SeestarConfig(host="127.0.0.1", control_port=fake.control_port,
                         image_port=fake.image_port, discovery_port=fake.discovery_port,
                         wide_image_port=fake.wide_image_port or 4804,
                         discovery_address="127.0.0.1",
                         key_file=str(key_file) if key_file else None,
                         time_factor=time_factor, readout_margin_s=readout_margin_s)


@dataclass
class LoopWatch:
    """Unhandled exceptions reported by the event loop during a test."""

    errors: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def loop_watch() -> AsyncIterator[LoopWatch]:
    """Collects exceptions the loop would only log (a crashed task, a callback that raised)."""
    loop = asyncio.get_running_loop()
    watch = LoopWatch()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: watch.errors.append(context))
    try:
        yield watch
    finally:
        loop.set_exception_handler(previous)


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[SeestarConfig], SeestarClient]]:
    """Makes clients; closes them at the end and checks nothing of the engine keeps running."""
    made: list[SeestarClient] = []

    def make(config: SeestarConfig, timeouts: Timeouts = FAST) -> SeestarClient:
        client = SeestarClient(config, timeouts=timeouts)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
    assert_engine_stopped()


def assert_engine_stopped() -> None:
    """No image thread alive and no engine task left on this loop."""
    threads = [t.name for t in threading.enumerate() if t.name.startswith("seestar-image")]
    assert threads == [], f"image threads still running: {threads}"
    current = asyncio.current_task()
    tasks = [t.get_name() for t in asyncio.all_tasks() if t is not current and not t.done()
             and t.get_name().startswith("seestar")]
    assert tasks == [], f"engine tasks still running: {tasks}"


def count_stars(pixels: np.ndarray, peak_sigma: float = 15.0, wing_sigma: float = 5.0) -> int:
    """Stars on 2x2-binned pixels: local maxima whose neighbours are bright too (not hot pixels)."""
    h, w = pixels.shape
    binned = pixels[: h // 2 * 2, : w // 2 * 2].astype(np.float32)
    binned = binned.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    median = float(np.median(binned))
    mad = float(np.median(np.abs(binned - median))) * 1.4826 or 1.0
    windows = np.lib.stride_tricks.sliding_window_view(binned, (3, 3))
    ranked = np.sort(windows.reshape(*windows.shape[:2], 9), axis=2)
    centre = binned[1:-1, 1:-1]
    peaks = ((centre >= ranked[..., -1]) & (centre > median + peak_sigma * mad)
             & (ranked[..., -3] > median + wing_sigma * mad))
    return int(peaks.sum())
