"""The benchmarks' tiny runs need Debian's indiserver and indi_simulator_ccd (indi-bin)."""

import shutil

import pytest


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201 - pytest hook
    if shutil.which("indiserver") and shutil.which("indi_simulator_ccd"):
        return
    skip = pytest.mark.skip(reason="indiserver/indi_simulator_ccd (Debian indi-bin) not installed")
    for item in items:
        if "tests/bench" in str(item.fspath):
            item.add_marker(skip)
