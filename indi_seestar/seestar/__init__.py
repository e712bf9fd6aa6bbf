"""asyncio engine for the Seestar: connections, image stream, reconnection, login (no INDI here)."""
