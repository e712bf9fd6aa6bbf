"""Thin adapters between INDI devices and the Seestar engine, one module per INDI device."""
