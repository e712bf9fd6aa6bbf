"""Event names and stage states of the control channel (seestar-protocol.md §3).

Layer: protocol (sans-I/O). Unknown event names are legal: `rpc.Event.name` stays a plain str;
these enums only name the ones the engine and the fake act on.
"""

from __future__ import annotations

import enum


class EventName(enum.StrEnum):
    """Event names the engine or the fake produce or act on."""

    VIEW = "View"
    AUTO_GOTO = "AutoGoto"
    SCOPE_GOTO = "ScopeGoto"
    SCOPE_TRACK = "ScopeTrack"
    SCOPE_HOME = "ScopeHome"
    SCOPE_MOVE_TO_HORIZON = "ScopeMoveToHorizon"
    MOUNT_MODE = "MountMode"
    CONTINUOUS_EXPOSURE = "ContinuousExposure"
    EXPOSURE = "Exposure"
    STACK = "Stack"
    BATCH_STACK = "BatchStack"
    PLATE_SOLVE = "PlateSolve"
    AUTO_FOCUS = "AutoFocus"
    FOCUSER_MOVE = "FocuserMove"
    WHEEL_MOVE = "WheelMove"
    DARK_LIBRARY = "DarkLibrary"
    INITIALISE = "Initialise"
    EQ_MODE_PA = "EqModePA"
    THREE_PPA = "3PPA"
    SAVE_IMAGE = "SaveImage"
    ALERT = "Alert"
    PI_STATUS = "PiStatus"
    SETTING = "Setting"
    CLIENT = "Client"
    DISK_SPACE = "DiskSpace"
    ANNOTATE = "Annotate"


class StageState(enum.StrEnum):
    """The `state` vocabulary of stage events."""

    START = "start"
    WORKING = "working"
    COMPLETE = "complete"
    FAIL = "fail"
    CANCEL = "cancel"
    DOWNLOADING = "downloading"
    SOLVING = "solving"
    FRAME_COMPLETE = "frame_complete"
    ON = "on"
    OFF = "off"
    MOVE1 = "move1"
    DELAY1 = "delay1"
    MOVE2 = "move2"
    DELAY2 = "delay2"


#: States that end an operation.
TERMINAL_STATES = frozenset({StageState.COMPLETE, StageState.FAIL, StageState.CANCEL})
