"""devices/camera_header: FITS_HEADER of both libindi generations, SCOPE_INFO's warning (pure)."""

from __future__ import annotations

import pytest

from indi_seestar.devices.camera_header import HeaderRecords, OpticsCheck
from indi_seestar.errors import ValueRejected
from indi_seestar.fits import FitsRecord

EMPTY_2X = {"KEYWORD_NAME": "", "KEYWORD_VALUE": "", "KEYWORD_COMMENT": ""}


def test_kstars_36_message_sets_observer_and_object_as_strings() -> None:
    records = HeaderRecords()
    assert records.apply({**EMPTY_2X, "FITS_OBSERVER": " Ada ", "FITS_OBJECT": "42"}) is None
    assert records.records() == (FitsRecord("OBSERVER", "Ada", "Observer name"),
                                 FitsRecord("OBJECT", "42", "Object name"))  # 1.9: always text


def test_all_empty_is_ignored_and_a_half_empty_2x_record_is_still_refused() -> None:
    records = HeaderRecords()
    assert records.apply({**EMPTY_2X, "FITS_OBSERVER": "", "FITS_OBJECT": ""}) is None
    assert records.apply({}) is None and records.records() == ()
    with pytest.raises(ValueRejected):
        records.apply({**EMPTY_2X, "KEYWORD_NAME": "FOO"})  # neither value nor comment


def test_clear_comes_before_the_legacy_elements_of_the_same_message() -> None:
    records = HeaderRecords()
    records.apply({"KEYWORD_NAME": "TELESCOP", "KEYWORD_VALUE": "S50", "KEYWORD_COMMENT": ""})
    note = records.apply({"KEYWORD_NAME": "INDI_CLEAR", "FITS_OBJECT": "M 1"})
    assert note == "Custom FITS headers cleared."
    assert records.records() == (FitsRecord("OBJECT", "M 1", "Object name"),)


def test_a_refused_part_changes_nothing() -> None:
    records = HeaderRecords()
    records.apply({"FITS_OBJECT": "M 1"})
    with pytest.raises(ValueRejected):
        records.apply({"KEYWORD_NAME": "SITENAME", "KEYWORD_VALUE": "home",
                       "FITS_OBSERVER": "Zoë"})  # not ASCII: the whole message is refused
    assert records.records() == (FitsRecord("OBJECT", "M 1", "Object name"),)


def test_optics_warning_once_per_value_and_never_for_the_scope_own_or_unset() -> None:
    check = OpticsCheck()
    s50 = {"scope_focal_mm": 250.0, "scope_aperture_mm": 50.0, "model": "Seestar S50"}
    assert check.warning(250, 50, **s50) is None
    assert check.warning(0, 0, **s50) is None
    text = check.warning(300, 60, **s50)
    assert text is not None and "Seestar S50 has 250 mm, 50 mm (f/5.0)" in text
    assert check.warning(300, 60, **s50) is None
    assert check.warning(400, 80, **s50) is not None
    assert check.warning(300, 60, scope_focal_mm=0.0, scope_aperture_mm=0.0, model="") is None
