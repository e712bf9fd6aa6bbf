"""Fixtures of the protocol tests (pure: no sockets, no clock)."""

from __future__ import annotations

import pytest

from .support import SESSIONS_DIR, Session, load_session, session_names


@pytest.fixture(scope="session")
def sessions() -> list[Session]:
    """Every recorded session; the test is skipped when ../shared/seestar-sessions is absent."""
    names = session_names()
    if not names:
        pytest.skip(f"recorded sessions not found at {SESSIONS_DIR}")
    return [load_session(name) for name in names]


@pytest.fixture(scope="session", params=session_names() or [None])
def session(request: pytest.FixtureRequest) -> Session:
    """One recorded session at a time (skipped when the shared folder is absent)."""
    if request.param is None:
        pytest.skip(f"recorded sessions not found at {SESSIONS_DIR}")
    return load_session(request.param)
