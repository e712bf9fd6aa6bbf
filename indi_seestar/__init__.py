"""indi_seestar: an INDI driver for ZWO Seestar smart telescopes (no work at import time)."""

__version__ = "0.1.0"
