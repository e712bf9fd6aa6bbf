"""Firmware result codes seen in replies and events (seestar-protocol.md §2.9).

Layer: protocol (sans-I/O). Unknown codes are tolerated: use `describe(code)`.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.IntEnum):
    """Known non-zero firmware codes."""

    SECOND_ROOT = 101
    METHOD_NOT_FOUND = 103
    EXPECTED_OBJECT_PARAM = 107
    EXPECTED_FLOAT_PARAM = 108
    UNEXPECTED_PARAM = 109
    EQUIPMENT_MOVING = 203
    FAIL_TO_OPERATE = 207
    NOT_SUPPORTED = 210
    NO_SOLVE_DATA = 215
    SOLVE_FAILED = 251
    ABORTED = 253
    FILE_NOT_EXIST = 255
    STACK_ALREADY_RUNNING = 259
    TOO_FEW_STARS = 263
    TRANSFORM_FAILED = 264
    NO_IMAGE = 267
    BELOW_HORIZON = 270
    NO_STAR_DETECTED = 279
    MOUNT_GOTO_FAILED = 501
    MOUNT_SYNC_FAILED = 502
    INTERRUPT = 514
    STAR_TRAILS = 530


_TEXT = {
    ErrorCode.SECOND_ROOT: "Second root",
    ErrorCode.METHOD_NOT_FOUND: "method not found",
    ErrorCode.EXPECTED_OBJECT_PARAM: "expected object param",
    ErrorCode.EXPECTED_FLOAT_PARAM: "expected float param",
    ErrorCode.UNEXPECTED_PARAM: "unexpected param",
    ErrorCode.EQUIPMENT_MOVING: "equipment is moving",
    ErrorCode.FAIL_TO_OPERATE: "fail to operate",
    ErrorCode.NOT_SUPPORTED: "not supported",
    ErrorCode.NO_SOLVE_DATA: "no solve data",
    ErrorCode.SOLVE_FAILED: "solve failed",
    ErrorCode.ABORTED: "aborted",
    ErrorCode.FILE_NOT_EXIST: "file not exist",
    ErrorCode.STACK_ALREADY_RUNNING: "stack is already running",
    ErrorCode.TOO_FEW_STARS: "stack error: too few stars",
    ErrorCode.TRANSFORM_FAILED: "stack error: transform failed",
    ErrorCode.NO_IMAGE: "no image",
    ErrorCode.BELOW_HORIZON: "below horizon",
    ErrorCode.NO_STAR_DETECTED: "no star is detected",
    ErrorCode.MOUNT_GOTO_FAILED: "mount goto failed",
    ErrorCode.MOUNT_SYNC_FAILED: "mount sync failed",
    ErrorCode.INTERRUPT: "interrupt",
    ErrorCode.STAR_TRAILS: "star trails",
}


def describe(code: int) -> str:
    """The firmware's text for a known code, or "unknown code N"."""
    try:
        return _TEXT[ErrorCode(code)]
    except ValueError:
        return f"unknown code {code}"
