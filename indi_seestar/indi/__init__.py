"""Generic INDI driver layer: property model, XML wire, standard properties, driver I/O.

Knows nothing of the Seestar: must not import protocol/, seestar/, devices/ or sim/.
"""
