"""End-to-end tests need Debian's indiserver; skip (with the reason) when it is absent."""

import shutil

import pytest


def pytest_collection_modifyitems(config, items):
    if shutil.which("indiserver"):
        return
    skip = pytest.mark.skip(reason="indiserver (Debian indi-bin) is not installed; run `make test`")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)
