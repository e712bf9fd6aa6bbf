"""Seestar wire protocol, sans-I/O: bytes in, typed messages out (no asyncio, no sockets, no clock)."""
