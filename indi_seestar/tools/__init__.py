"""Developer tools (`make run`); not imported by the driver."""
