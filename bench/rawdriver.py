"""A do-nothing INDI camera for the transport ceiling: what indiserver and a libindi client sustain.

`python -m bench.rawdriver --mode inline|attached --width W --height H` serves one device,
"Bench Raw", with a number FIRE and a BLOB CCD1. Every newNumberVector FIRE is answered at once
with a prebuilt FITS of W x H 16-bit noise (the same for every frame), then FIRE Ok:

* inline: the base64 is computed once at start; each frame is one blocking write of the whole
  message (one unbroken run of base64, no enclen), as our driver does.
* attached: the libindi way over indiserver's socketpair (indi-standard.md §1.1): the FITS goes
  into a new memfd, the XML carries `attached="true"` and no payload, and the descriptor travels
  with the XML in one sendmsg (SCM_RIGHTS); indiserver base64-encodes for TCP clients itself.

So the time from FIRE to BLOB at the client is the cost of indiserver and the client alone.
stdout is the INDI wire; nothing else is printed there.
"""

from __future__ import annotations

import argparse
import binascii
import os
import socket
import sys

import numpy as np

from indi_seestar.indi.wire import GetProperties, NewVector, XmlStreamDecoder

DEVICE = "Bench Raw"


def _fits(width: int, height: int) -> bytes:
    cards = [
        "SIMPLE  =                    T",
        "BITPIX  =                   16",
        "NAXIS   =                    2",
        f"NAXIS1  = {width:20d}",
        f"NAXIS2  = {height:20d}",
        "BZERO   =                32768",
        "BSCALE  =                    1",
        "END",
    ]
    header = b"".join(c.ljust(80).encode() for c in cards)
    header += b" " * (-len(header) % 2880)
    pixels = np.random.default_rng(7).integers(300, 3000, (height, width), dtype=np.uint16)
    data = (pixels ^ 0x8000).astype(">u2").tobytes()
    return header + data + bytes(-len(data) % 2880)


def _defs() -> bytes:
    return (
        f'<defNumberVector device="{DEVICE}" name="FIRE" label="Fire" group="Main" state="Idle" '
        'perm="rw" timeout="0"><defNumber name="N" label="n" format="%g" min="0" max="1e9" '
        'step="1">0</defNumber></defNumberVector>\n'
        f'<defBLOBVector device="{DEVICE}" name="CCD1" label="Image" group="Main" state="Idle" '
        'perm="ro" timeout="0"><defBLOB name="CCD1" label="Image"/></defBLOBVector>\n'
        f'<defSwitchVector device="{DEVICE}" name="CONNECTION" label="Connection" group="Main" '
        'state="Ok" perm="rw" rule="OneOfMany" timeout="0"><defSwitch name="CONNECT" '
        'label="Connect">On</defSwitch><defSwitch name="DISCONNECT" label="Disconnect">Off'
        "</defSwitch></defSwitchVector>\n"
    ).encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class RawCamera:
    """The device; `fire()` sends one frame."""

    def __init__(self, mode: str, fits: bytes) -> None:
        self.mode = mode
        self.fits = fits
        head = (f'<setBLOBVector device="{DEVICE}" name="CCD1" state="Ok" timeout="0">'
                f'<oneBLOB name="CCD1" size="{len(fits)}" format=".fits"').encode()
        if mode == "inline":
            self.message = (head + b">" + binascii.b2a_base64(fits, newline=False)
                            + b"</oneBLOB></setBLOBVector>\n")
        else:
            self.message = head + f' len="{len(fits)}" attached="true"></oneBLOB></setBLOBVector>\n'.encode()
            self.sock = socket.socket(fileno=os.dup(1))
        self.fire_ok = (f'<setNumberVector device="{DEVICE}" name="FIRE" state="Ok" timeout="0">'
                        '<oneNumber name="N">{n}</oneNumber></setNumberVector>\n')

    def fire(self, n: str) -> None:
        if self.mode == "inline":
            _write_all(1, self.message)
        else:
            fd = os.memfd_create("bench-blob", os.MFD_CLOEXEC)
            try:
                _write_all(fd, self.fits)
                sent = self.sock.sendmsg([self.message],
                                         [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                           np.array([fd], dtype=np.int32).tobytes())])
                if sent != len(self.message):
                    _write_all(1, self.message[sent:])
            finally:
                os.close(fd)
        _write_all(1, self.fire_ok.format(n=n).encode())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.rawdriver")
    p.add_argument("--mode", choices=["inline", "attached"], default="inline")
    p.add_argument("--width", type=int, default=1080)
    p.add_argument("--height", type=int, default=1920)
    args = p.parse_args(argv)
    camera = RawCamera(args.mode, _fits(args.width, args.height))
    decoder = XmlStreamDecoder()
    while data := os.read(0, 65536):
        for msg in decoder.feed(data):
            if isinstance(msg, GetProperties) and msg.device in (None, DEVICE):
                _write_all(1, _defs())
            elif isinstance(msg, NewVector) and msg.device == DEVICE and msg.name == "FIRE":
                camera.fire(msg.values.get("N", "0"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
