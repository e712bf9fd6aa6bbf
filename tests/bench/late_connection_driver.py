"""A raw INDI driver for tests/bench/test_bench_connect.py (stdout is the INDI wire).

`python late_connection_driver.py DELAY_S MODE`: on every getProperties it defines device
"Late Dev" by a text vector first and its CONNECTION switch DELAY_S later, as a libindi client
sees a device whose CONNECTION vector is not built yet. CONNECT is answered with CONNECTION Ok
(MODE "accept") or Alert with a message (MODE "refuse").
"""

from __future__ import annotations

import os
import re
import sys
import time

DEVICE = "Late Dev"
REFUSAL = "[ERROR] the Seestar at 127.0.0.1:1 is held by indi_seestar pid 1"
TEXT = (f'<defTextVector device="{DEVICE}" name="DRIVER_INFO" label="Driver" group="General" '
        'state="Idle" perm="ro" timeout="0"><defText name="DRIVER_NAME" label="Name">late'
        '</defText></defTextVector>\n')
CONNECTION = (f'<defSwitchVector device="{DEVICE}" name="CONNECTION" label="Connection" '
              'group="Main Control" state="Idle" perm="rw" rule="OneOfMany" timeout="60">'
              '<defSwitch name="CONNECT" label="Connect">Off</defSwitch>'
              '<defSwitch name="DISCONNECT" label="Disconnect">On</defSwitch></defSwitchVector>\n')
NEW_SWITCH = re.compile(r"<newSwitchVector[^>]*>.*?</newSwitchVector>", re.S)


def answer(state: str, connected: bool, message: str = "") -> str:
    on, off = ("On", "Off") if connected else ("Off", "On")
    text = f' message="{message}"' if message else ""
    return (f'<setSwitchVector device="{DEVICE}" name="CONNECTION" state="{state}"{text}>'
            f'<oneSwitch name="CONNECT">{on}</oneSwitch>'
            f'<oneSwitch name="DISCONNECT">{off}</oneSwitch></setSwitchVector>\n')


def main() -> int:
    delay_s, mode = float(sys.argv[1]), sys.argv[2]
    buf = ""
    while chunk := os.read(0, 65536):
        buf += chunk.decode()
        while "<getProperties" in buf and "/>" in buf[buf.index("<getProperties"):]:
            buf = buf[buf.index("/>", buf.index("<getProperties")) + 2:]
            sys.stdout.write(TEXT)
            sys.stdout.flush()
            time.sleep(delay_s)
            sys.stdout.write(CONNECTION)
            sys.stdout.flush()
        while match := NEW_SWITCH.search(buf):
            buf = buf[match.end():]
            if re.search(r"name=[\"']CONNECTION[\"']", match.group(0)) and re.search(
                    r"name=[\"']CONNECT[\"'][^>]*>\s*On", match.group(0)):
                sys.stdout.write(answer("Ok", True) if mode == "accept"
                                 else answer("Alert", False, REFUSAL))
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
