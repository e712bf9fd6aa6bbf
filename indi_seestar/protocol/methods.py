"""Seestar RPC method names (`Method`), view stages and `Call`: the ONLY module where method strings appear.

Layer: protocol (sans-I/O). Must not import asyncio, sockets, seestar/, indi/, devices/ or sim/.
The typed request builders that return a `Call` live by area in builders_session.py,
builders_mount.py and builders_imaging.py; they spell methods as `Method.X`, never as strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from ._params import NO_PARAMS


class Method(enum.StrEnum):
    """Every firmware method this project sends or the fake answers."""

    # state
    GET_DEVICE_STATE = "get_device_state"
    GET_SETTING = "get_setting"
    SET_SETTING = "set_setting"
    GET_VIEW_STATE = "get_view_state"
    GET_APP_STATE = "iscope_get_app_state"
    PI_STATION_STATE = "pi_station_state"
    TEST_CONNECTION = "test_connection"
    PLAY_SOUND = "play_sound"
    # login (§6)
    GET_VERIFY_STR = "get_verify_str"
    VERIFY_CLIENT = "verify_client"
    PI_IS_VERIFIED = "pi_is_verified"
    # discovery (UDP 4720)
    SCAN_ISCOPE = "scan_iscope"
    # mount
    SCOPE_GET_EQU_COORD = "scope_get_equ_coord"
    SCOPE_GET_HORIZ_COORD = "scope_get_horiz_coord"
    SCOPE_GOTO = "scope_goto"
    SCOPE_SYNC = "scope_sync"
    SCOPE_PARK = "scope_park"
    SCOPE_MOVE_TO_HORIZON = "scope_move_to_horizon"
    SCOPE_SET_TRACK_STATE = "scope_set_track_state"
    SCOPE_GET_TRACK_STATE = "scope_get_track_state"
    SCOPE_SPEED_MOVE = "scope_speed_move"
    SCOPE_MOVE = "scope_move"
    # view / imaging
    ISCOPE_START_VIEW = "iscope_start_view"
    ISCOPE_STOP_VIEW = "iscope_stop_view"
    ISCOPE_START_STACK = "iscope_start_stack"
    SET_SEQUENCE_SETTING = "set_sequence_setting"
    SET_CONTROL_VALUE = "set_control_value"
    GET_CONTROL_VALUE = "get_control_value"
    # image port (4800)
    BEGIN_STREAMING = "begin_streaming"
    STOP_STREAMING = "stop_streaming"
    GET_CURRENT_IMG = "get_current_img"
    GET_STACKED_IMG = "get_stacked_img"
    # focuser and wheel
    MOVE_FOCUSER = "move_focuser"
    GET_FOCUSER_POSITION = "get_focuser_position"
    STOP_FOCUSER = "stop_focuser"
    SET_WHEEL_POSITION = "set_wheel_position"
    GET_WHEEL_POSITION = "get_wheel_position"
    GET_WHEEL_STATE = "get_wheel_state"
    GET_WHEEL_SLOT_NAME = "get_wheel_slot_name"
    # extras
    START_AUTO_FOCUS = "start_auto_focuse"  # sic: the firmware's spelling (§10 quirk 1)
    STOP_AUTO_FOCUS = "stop_auto_focuse"  # sic
    START_CREATE_DARK = "start_create_dark"
    STOP_CREATE_DARK = "stop_create_dark"
    START_SOLVE = "start_solve"
    STOP_SOLVE = "stop_solve"
    GET_SOLVE_RESULT = "get_solve_result"
    GET_LAST_SOLVE_RESULT = "get_last_solve_result"
    START_POLAR_ALIGN = "start_polar_align"
    STOP_POLAR_ALIGN = "stop_polar_align"
    PAUSE_POLAR_ALIGN = "pause_polar_align"
    PI_OUTPUT_SET2 = "pi_output_set2"
    PI_REBOOT = "pi_reboot"
    PI_SHUTDOWN = "pi_shutdown"
    SET_USER_LOCATION = "set_user_location"
    GET_USER_LOCATION = "get_user_location"
    PI_SET_TIME = "pi_set_time"
    PI_GET_TIME = "pi_get_time"
    # batch (on-board re-)stacking (§8.9, seeds/seestarpy-batch-stack.txt)
    SET_BATCH_STACK_SETTING = "set_batch_stack_setting"
    GET_BATCH_STACK_SETTING = "get_batch_stack_setting"
    START_BATCH_STACK = "start_batch_stack"
    STOP_BATCH_STACK = "stop_batch_stack"
    CLEAR_BATCH_STACK = "clear_batch_stack"
    CLEAR_APP_STATE = "clear_app_state"
    # new in firmware 7.75 (app 3.2.0); params and results unknown (docs/firmware.md)
    GET_FACTORY_TEST_STATE = "get_factory_test_state"
    GET_PHONE_LIST = "get_phone_list"
    GET_PHOTOMETRY_IMG = "get_photometry_img"
    MOVE_SLEEP_SEC = "move_sleep_sec"
    REMOTE_REBIND_DEVICE_USER = "remote_rebind_device_user"
    SCOPE_GET_TEST_DATE = "scope_get_test_date"


#: The login handshake (§6.2): never carries the verify marker.
LOGIN_METHODS = frozenset({Method.GET_VERIFY_STR, Method.VERIFY_CLIENT, Method.PI_IS_VERIFIED})


class Stage(enum.StrEnum):
    """View stages that `iscope_stop_view` can stop."""

    AUTO_GOTO = "AutoGoto"
    STACK = "Stack"
    CONTINUOUS_EXPOSURE = "ContinuousExposure"
    AUTO_FOCUS = "AutoFocus"
    DARK_LIBRARY = "DarkLibrary"
    PLATE_SOLVE = "PlateSolve"
    SCOPE_GOTO = "ScopeGoto"


@dataclass(frozen=True, slots=True)
class Call:
    """A method and its params, before an id and the verify marker are added."""

    method: Method
    params: Any = NO_PARAMS
