"""The NO_PARAMS sentinel, shared by rpc.py, methods.py and the builders_*.py (import it from rpc).

Layer: protocol (sans-I/O). Kept apart so that rpc.py can import methods.py without a cycle.
"""

from __future__ import annotations

import enum


class _NoParams(enum.Enum):
    NO_PARAMS = "no params"


#: `params` absent from a request (distinct from `None`, which is JSON null).
NO_PARAMS = _NoParams.NO_PARAMS
