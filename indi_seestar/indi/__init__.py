"""Generic INDI driver layer: property model, XML wire, standard properties, driver I/O (no Seestar here)."""
