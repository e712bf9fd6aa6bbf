"""Suite-wide settings: property-based tests are derandomized so CI runs are repeatable.

Hypothesis then explores the same examples on every run (no example database, which a fresh
clone would not have anyway); `HYPOTHESIS_PROFILE=explore` runs random examples while developing.
"""

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
