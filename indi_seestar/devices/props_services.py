"""Factories for the INDI properties of the scope's own services (autofocus, solve, power...).

Layer: devices. Declared once each here; libindi has no standard names for these procedures,
so they carry a SEESTAR_ prefix and sit in their own groups (docs/services.md).
"""

from __future__ import annotations

from ..indi.model import NumberVector, Perm, Rule, SwitchVector, TextVector
from ..indi.standard._build import choice, numbers, one_number, switches, texts

AUTOFOCUS_GROUP = "Autofocus"
SOLVE_GROUP = "Plate Solve"


def start_stop(device: str, name: str, label: str, group: str, prefix: str,
               *, timeout_s: float = 300) -> SwitchVector:
    """<name>: <prefix>_START, <prefix>_STOP buttons (AtMostOne)."""
    return switches(device, name, label, group, Rule.AT_MOST_ONE,
                    [(f"{prefix}_START", "Start", False), (f"{prefix}_STOP", "Stop", False)],
                    timeout_s=timeout_s)


def autofocus(device: str) -> SwitchVector:
    """SEESTAR_AUTOFOCUS: AUTOFOCUS_START, AUTOFOCUS_STOP (the scope's own autofocus)."""
    return start_stop(device, "SEESTAR_AUTOFOCUS", "Autofocus", AUTOFOCUS_GROUP, "AUTOFOCUS")


def autofocus_status(device: str) -> NumberVector:
    """SEESTAR_AUTOFOCUS_STATUS (ro): points measured, last point, final position."""
    members = [one_number("AF_POINTS", "Points measured", "%.f", 0, 1000, 0, 0),
               one_number("AF_POSITION", "Last position (steps)", "%.f", 0, 100000, 0, 0),
               one_number("AF_STAR_SIZE", "Last star size (px)", "%.2f", 0, 1000, 0, 0),
               one_number("AF_BEST_POSITION", "Result (steps)", "%.f", 0, 100000, 0, 0)]
    return numbers(device, "SEESTAR_AUTOFOCUS_STATUS", "Autofocus progress", AUTOFOCUS_GROUP,
                   members, perm=Perm.RO, timeout_s=0)


def autofocus_curve(device: str) -> TextVector:
    """SEESTAR_AUTOFOCUS_CURVE (ro): CURVE = "position:star size" pairs measured so far."""
    return texts(device, "SEESTAR_AUTOFOCUS_CURVE", "Autofocus curve", AUTOFOCUS_GROUP,
                 [("CURVE", "Position:size", "")], perm=Perm.RO, timeout_s=0)


def plate_solve(device: str) -> SwitchVector:
    """SEESTAR_SOLVE: SOLVE (solve the view), SOLVE_SYNC (solve, then sync), SOLVE_STOP."""
    return switches(device, "SEESTAR_SOLVE", "Plate solve", SOLVE_GROUP, Rule.AT_MOST_ONE,
                    [("SOLVE", "Solve", False), ("SOLVE_SYNC", "Solve and sync", False),
                     ("SOLVE_STOP", "Stop", False)], timeout_s=60)


def solve_result(device: str) -> NumberVector:
    """SEESTAR_SOLVE_RESULT (ro): J2000 and JNow centre, rotation, field, stars."""
    members = [one_number("RA_J2000", "RA J2000 (hh:mm:ss)", "%010.6m", 0, 24, 0, 0),
               one_number("DEC_J2000", "Dec J2000 (dd:mm:ss)", "%010.6m", -90, 90, 0, 0),
               one_number("RA_JNOW", "RA JNow (hh:mm:ss)", "%010.6m", 0, 24, 0, 0),
               one_number("DEC_JNOW", "Dec JNow (dd:mm:ss)", "%010.6m", -90, 90, 0, 0),
               one_number("ANGLE_DEG", "Rotation (deg)", "%.2f", 0, 360, 0, 0),
               one_number("FOV_W_DEG", "Field width (deg)", "%.3f", 0, 180, 0, 0),
               one_number("FOV_H_DEG", "Field height (deg)", "%.3f", 0, 180, 0, 0),
               one_number("STARS", "Stars", "%.f", 0, 1e6, 0, 0)]
    return numbers(device, "SEESTAR_SOLVE_RESULT", "Solve result", SOLVE_GROUP, members,
                   perm=Perm.RO, timeout_s=0)


POWER_GROUP = "Power"
SYSTEM_GROUP = "System"


def battery(device: str) -> NumberVector:
    """SEESTAR_BATTERY (ro): charge %, charging (1/0), battery and board temperatures."""
    members = [one_number("BATTERY_PERCENT", "Battery (%)", "%.0f", 0, 100, 0, 0),
               one_number("BATTERY_CHARGING", "Charging (1 = yes)", "%.0f", 0, 1, 0, 0),
               one_number("BATTERY_TEMP_C", "Battery temperature (C)", "%.1f", -50, 150, 0, 0),
               one_number("BOARD_TEMP_C", "Board temperature (C)", "%.1f", -50, 150, 0, 0)]
    return numbers(device, "SEESTAR_BATTERY", "Battery", POWER_GROUP, members, perm=Perm.RO,
                   timeout_s=0)


def charger(device: str) -> TextVector:
    """SEESTAR_CHARGER (ro): CHARGER_STATUS as the scope words it ("Charging", "Full"...)."""
    return texts(device, "SEESTAR_CHARGER", "Charger", POWER_GROUP,
                 [("CHARGER_STATUS", "Status", "")], perm=Perm.RO, timeout_s=0)


def storage(device: str) -> NumberVector:
    """SEESTAR_STORAGE (ro): free and total MB, used %."""
    members = [one_number("STORAGE_FREE_MB", "Free (MB)", "%.0f", 0, 1e9, 0, 0),
               one_number("STORAGE_TOTAL_MB", "Total (MB)", "%.0f", 0, 1e9, 0, 0),
               one_number("STORAGE_USED_PERCENT", "Used (%)", "%.0f", 0, 100, 0, 0)]
    return numbers(device, "SEESTAR_STORAGE", "Storage", POWER_GROUP, members, perm=Perm.RO,
                   timeout_s=0)


def system(device: str) -> SwitchVector:
    """SEESTAR_SYSTEM: REBOOT, SHUTDOWN (each armed here, done by SEESTAR_SYSTEM_CONFIRM)."""
    return switches(device, "SEESTAR_SYSTEM", "Scope power", SYSTEM_GROUP, Rule.AT_MOST_ONE,
                    [("REBOOT", "Reboot", False), ("SHUTDOWN", "Shut down", False)])


def system_confirm(device: str) -> SwitchVector:
    """SEESTAR_SYSTEM_CONFIRM: CONFIRM (do the armed reboot/shutdown), CANCEL."""
    return switches(device, "SEESTAR_SYSTEM_CONFIRM", "Confirm", SYSTEM_GROUP, Rule.AT_MOST_ONE,
                    [("CONFIRM", "Yes, do it", False), ("CANCEL", "Cancel", False)])


DARKS_GROUP = "Dark Library"


def darks(device: str) -> SwitchVector:
    """SEESTAR_DARKS: DARKS_START, DARKS_STOP (the scope's own dark library)."""
    return start_stop(device, "SEESTAR_DARKS", "Dark library", DARKS_GROUP, "DARKS")


def darks_settings(device: str, exposure_s: float) -> NumberVector:
    """SEESTAR_DARKS_SETTINGS: DARKS_EXPOSURE (s) the library is built for (the stack sub)."""
    return numbers(device, "SEESTAR_DARKS_SETTINGS", "Dark exposure", DARKS_GROUP,
                   [one_number("DARKS_EXPOSURE", "Sub exposure (s)", "%.1f", 1, 600, 1, exposure_s)])


def darks_progress(device: str) -> NumberVector:
    """SEESTAR_DARKS_PROGRESS (ro): DARKS_PERCENT."""
    return numbers(device, "SEESTAR_DARKS_PROGRESS", "Dark progress", DARKS_GROUP,
                   [one_number("DARKS_PERCENT", "Done (%)", "%.0f", 0, 100, 0, 0)],
                   perm=Perm.RO, timeout_s=0)


def darks_library(device: str) -> TextVector:
    """SEESTAR_DARKS_LIBRARY (ro): what the last library built covers (exposure, gain, date)."""
    return texts(device, "SEESTAR_DARKS_LIBRARY", "Dark library", DARKS_GROUP,
                 [("LIBRARY_EXPOSURE", "Exposure (s)", ""), ("LIBRARY_GAIN", "Gain", ""),
                  ("LIBRARY_DATE", "Built (UTC)", "")], perm=Perm.RO, timeout_s=0)


POLAR_GROUP = "Polar Alignment"


def polar_align(device: str) -> SwitchVector:
    """SEESTAR_POLAR_ALIGN: PA_START (also resumes), PA_PAUSE, PA_STOP (EQ mode only)."""
    return switches(device, "SEESTAR_POLAR_ALIGN", "Polar alignment", POLAR_GROUP, Rule.AT_MOST_ONE,
                    [("PA_START", "Start", False), ("PA_PAUSE", "Pause", False), ("PA_STOP", "Stop", False)],
                    timeout_s=300)


def polar_arm(device: str, index: int = 3) -> SwitchVector:
    """SEESTAR_POLAR_ARM: ARM_1..ARM_5, the firmware's dec_pos_index (3 = arm at the zenith)."""
    labels = ["1 (lowest)", "2", "3 (zenith)", "4", "5 (lowest, other side)"]
    return choice(device, "SEESTAR_POLAR_ARM", "Arm position", POLAR_GROUP,
                  [(f"ARM_{i}", label) for i, label in enumerate(labels, start=1)], index - 1)


def polar_progress(device: str) -> NumberVector:
    """SEESTAR_POLAR_PROGRESS (ro): PA_PERCENT through the three points."""
    return numbers(device, "SEESTAR_POLAR_PROGRESS", "Progress", POLAR_GROUP,
                   [one_number("PA_PERCENT", "Done (%)", "%.0f", 0, 100, 0, 0)], perm=Perm.RO, timeout_s=0)


def polar_step(device: str) -> TextVector:
    """SEESTAR_POLAR_STEP (ro): STEP, the firmware's step (move1, delay1, ..., measuring)."""
    return texts(device, "SEESTAR_POLAR_STEP", "Step", POLAR_GROUP, [("STEP", "Step", "")],
                 perm=Perm.RO, timeout_s=0)


def polar_error(device: str) -> NumberVector:
    """SEESTAR_POLAR_ERROR (ro): altitude, azimuth and total error in arc-minutes."""
    members = [one_number("PA_ALT_ARCMIN", "Altitude error (')", "%.1f", -3600, 3600, 0, 0),
               one_number("PA_AZ_ARCMIN", "Azimuth error (')", "%.1f", -3600, 3600, 0, 0),
               one_number("PA_TOTAL_ARCMIN", "Total error (')", "%.1f", 0, 5200, 0, 0)]
    return numbers(device, "SEESTAR_POLAR_ERROR", "Polar error", POLAR_GROUP, members,
                   perm=Perm.RO, timeout_s=0)


SEQUENCE_GROUP = "Sequences"


def startup(device: str) -> SwitchVector:
    """SEESTAR_STARTUP: STARTUP_START, STARTUP_STOP (the app's start-up, step by step)."""
    return start_stop(device, "SEESTAR_STARTUP", "Start-up", SEQUENCE_GROUP, "STARTUP", timeout_s=600)


def startup_options(device: str) -> SwitchVector:
    """SEESTAR_STARTUP_OPTIONS (AnyOfMany): WITH_AUTOFOCUS, WITH_DARKS."""
    return switches(device, "SEESTAR_STARTUP_OPTIONS", "Start-up also", SEQUENCE_GROUP, Rule.ANY_OF_MANY,
                    [("WITH_AUTOFOCUS", "Autofocus", False), ("WITH_DARKS", "Dark library", False)])


def shutdown_sequence(device: str) -> SwitchVector:
    """SEESTAR_SHUTDOWN_SEQ: SHUTDOWN_SEQ_START, SHUTDOWN_SEQ_STOP (stop all, park, ...)."""
    return start_stop(device, "SEESTAR_SHUTDOWN_SEQ", "Shut-down", SEQUENCE_GROUP, "SHUTDOWN_SEQ",
                      timeout_s=300)


def shutdown_options(device: str) -> SwitchVector:
    """SEESTAR_SHUTDOWN_OPTIONS (AnyOfMany): WITH_POWER_OFF."""
    return switches(device, "SEESTAR_SHUTDOWN_OPTIONS", "Shut-down also", SEQUENCE_GROUP,
                    Rule.ANY_OF_MANY, [("WITH_POWER_OFF", "Power the scope off", False)])


def sequence_status(device: str) -> TextVector:
    """SEESTAR_SEQUENCE_STATUS (ro): SEQUENCE, STEP (running now), DONE (results so far)."""
    return texts(device, "SEESTAR_SEQUENCE_STATUS", "Sequence", SEQUENCE_GROUP,
                 [("SEQUENCE", "Sequence", ""), ("STEP", "Step", ""), ("DONE", "Done", "")],
                 perm=Perm.RO, timeout_s=0)


def sequence_progress(device: str) -> NumberVector:
    """SEESTAR_SEQUENCE_PROGRESS (ro): STEP_NUMBER of STEP_COUNT."""
    return numbers(device, "SEESTAR_SEQUENCE_PROGRESS", "Progress", SEQUENCE_GROUP,
                   [one_number("STEP_NUMBER", "Step", "%.0f", 0, 20, 0, 0),
                    one_number("STEP_COUNT", "Of", "%.0f", 0, 20, 0, 0)], perm=Perm.RO, timeout_s=0)
