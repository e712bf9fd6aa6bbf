"""Factories for the Seestar Stack device's own INDI properties, declared once each.

Layer: devices. The CCD vectors come from indi.standard; these are the live stack's controls,
its state, its settings (as the firmware takes them) and how its images are delivered.
"""

from __future__ import annotations

from ..indi.model import NumberVector, Perm, Rule, SwitchVector, TextVector
from ..indi.standard._build import choice, numbers, one_number, switches, texts
from ..protocol.stacking import EXPERT_SUB_LENGTHS_S, SUB_LENGTHS_S, StackSettings

STACK_GROUP = "Live Stack"
SETTINGS_GROUP = "Stack Settings"
#: Sub-length switch names, shortest first (2 s and 5 s need the firmware's expert mode).
SUB_CHOICES = tuple((f"SUB_{s}S", f"{s} s") for s in (*EXPERT_SUB_LENGTHS_S, *SUB_LENGTHS_S))
OPTION_MEMBERS = (("DITHER", "Dither"), ("LP_FILTER", "LP filter"), ("DBE", "Remove gradient (DBE)"),
                  ("STAR_CORRECTION", "Star correction"), ("DRIZZLE_2X", "Drizzle 2x"),
                  ("SAVE_SUBS", "Save each sub on the scope"))


def stack_control(device: str) -> SwitchVector:
    """SEESTAR_STACK: start a new stack, continue the one on the scope, or stop."""
    return switches(device, "SEESTAR_STACK", "Live stack", STACK_GROUP, Rule.AT_MOST_ONE,
                    [("STACK_NEW", "Start new", False), ("STACK_CONTINUE", "Continue", False),
                     ("STACK_STOP", "Stop", False)])


def stack_state(device: str) -> NumberVector:
    """SEESTAR_STACK_STATE (ro): counters; Busy while stacking, Ok stopped, Alert failed."""
    members = [one_number("STACKED", "Subs stacked", "%.0f", 0, 1e6, 0, 0),
               one_number("REJECTED", "Subs rejected", "%.0f", 0, 1e6, 0, 0),
               one_number("INTEGRATION_S", "Total integration (s)", "%.0f", 0, 1e8, 0, 0),
               one_number("SUB_S", "Sub length (s)", "%.0f", 0, 3600, 0, 0),
               one_number("ELAPSED_S", "Elapsed (s)", "%.0f", 0, 1e8, 0, 0)]
    return numbers(device, "SEESTAR_STACK_STATE", "Stack state", STACK_GROUP, members,
                   perm=Perm.RO, timeout_s=0)


def stack_target(device: str) -> TextVector:
    """SEESTAR_STACK_TARGET (ro): the target name the scope stacks under."""
    return texts(device, "SEESTAR_STACK_TARGET", "Stack target", STACK_GROUP,
                 [("TARGET", "Target", "")], perm=Perm.RO, timeout_s=0)


def stack_sub(device: str, settings: StackSettings) -> SwitchVector:
    """SEESTAR_STACK_SUB: the sub length (one of the firmware's values)."""
    names = [name for name, _ in SUB_CHOICES]
    current = names.index(f"SUB_{settings.sub_s}S") if f"SUB_{settings.sub_s}S" in names else 2
    return choice(device, "SEESTAR_STACK_SUB", "Sub length", SETTINGS_GROUP, SUB_CHOICES, current)


def stack_dither(device: str, settings: StackSettings) -> NumberVector:
    """SEESTAR_STACK_DITHER: dither distance (px) and how often (every N subs)."""
    members = [one_number("PIXELS", "Distance (px)", "%.0f", 1, 9999, 1, settings.dither_pix),
               one_number("EVERY", "Every N subs", "%.0f", 1, 9999, 1, settings.dither_every)]
    return numbers(device, "SEESTAR_STACK_DITHER", "Dithering", SETTINGS_GROUP, members)


def stack_options(device: str, settings: StackSettings) -> SwitchVector:
    """SEESTAR_STACK_OPTIONS (AnyOfMany): dither on, LP filter, DBE, star correction, drizzle, save subs."""
    on = option_values(settings)
    return switches(device, "SEESTAR_STACK_OPTIONS", "Stack options", SETTINGS_GROUP, Rule.ANY_OF_MANY,
                    [(name, label, on[name]) for name, label in OPTION_MEMBERS])


def option_values(settings: StackSettings) -> dict[str, bool]:
    """SEESTAR_STACK_OPTIONS members from settings."""
    return {"DITHER": settings.dither_enabled, "LP_FILTER": settings.lp_filter, "DBE": settings.dbe,
            "STAR_CORRECTION": settings.star_correction, "DRIZZLE_2X": settings.drizzle2x,
            "SAVE_SUBS": settings.save_subs}


def with_options(settings: StackSettings, on: dict[str, bool]) -> StackSettings:
    """`settings` with SEESTAR_STACK_OPTIONS values applied."""
    return settings.replace(dither_enabled=on["DITHER"], lp_filter=on["LP_FILTER"], dbe=on["DBE"],
                            star_correction=on["STAR_CORRECTION"], drizzle2x=on["DRIZZLE_2X"],
                            save_subs=on["SAVE_SUBS"])


def stack_images(device: str) -> SwitchVector:
    """SEESTAR_STACK_IMAGES: send/save the stack after each new sub, or only its final image."""
    return choice(device, "SEESTAR_STACK_IMAGES", "Stacked images", STACK_GROUP,
                  [("IMAGES_EACH", "After each new sub"), ("IMAGES_FINAL", "Final only")], 0)


def stack_interval(device: str, interval_s: float = 0.0) -> NumberVector:
    """SEESTAR_STACK_INTERVAL: the least time between two stacked images (s)."""
    return numbers(device, "SEESTAR_STACK_INTERVAL", "Image interval", STACK_GROUP,
                   [one_number("MIN_INTERVAL_S", "At least every (s)", "%.0f", 0, 3600, 1, interval_s)])


def stack_fetch(device: str) -> SwitchVector:
    """SEESTAR_STACK_FETCH: send/save the stack as it is now."""
    return switches(device, "SEESTAR_STACK_FETCH", "Get stack now", STACK_GROUP, Rule.AT_MOST_ONE,
                    [("FETCH", "Get image", False)])


BATCH_GROUP = "Batch Stack"


def batch_selection(device: str) -> TextVector:
    """SEESTAR_BATCH_TARGET: the target whose stored subs to re-stack, and which ("all", "1-5,8")."""
    return texts(device, "SEESTAR_BATCH_TARGET", "Batch target", BATCH_GROUP,
                 [("TARGET", "Target", ""), ("SELECT", "Subs (all, or 1-5,8)", "all")])


def batch_control(device: str) -> SwitchVector:
    """SEESTAR_BATCH: list the target's subs, start the on-board re-stack, stop it."""
    return switches(device, "SEESTAR_BATCH", "Batch stack", BATCH_GROUP, Rule.AT_MOST_ONE,
                    [("LIST", "List subs", False), ("START", "Start", False), ("STOP", "Stop", False)])


def batch_subs(device: str, names: list[str]) -> TextVector:
    """SEESTAR_BATCH_SUBS (ro): the stored subs, numbered as SELECT counts them."""
    members = [(f"SUB_{i:03d}", f"{i}", name) for i, name in enumerate(names, 1)] or [("SUB_000", "none", "")]
    return texts(device, "SEESTAR_BATCH_SUBS", "Stored subs", BATCH_GROUP, members, perm=Perm.RO, timeout_s=0)


def batch_progress(device: str) -> NumberVector:
    """SEESTAR_BATCH_PROGRESS (ro): percent, subs done of total, time left."""
    members = [one_number("PERCENT", "Done (%)", "%.0f", 0, 100, 0, 0),
               one_number("DONE", "Subs stacked", "%.0f", 0, 1e6, 0, 0),
               one_number("TOTAL", "Subs chosen", "%.0f", 0, 1e6, 0, 0),
               one_number("REMAINING_S", "Time left (s)", "%.0f", 0, 1e8, 0, 0)]
    return numbers(device, "SEESTAR_BATCH_PROGRESS", "Batch progress", BATCH_GROUP, members,
                   perm=Perm.RO, timeout_s=0)
