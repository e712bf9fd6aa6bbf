"""The fake Seestar: the real wire protocol on loopback sockets (imports protocol/ only)."""
