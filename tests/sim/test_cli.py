"""indi_seestar_sim as a subprocess: one ready line, a working scope, clean exit on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys


def test_cli_ready_line_and_clean_exit():
    proc = subprocess.Popen(
        [sys.executable, "-m", "indi_seestar.sim", "--control-port", "0", "--image-port", "0",
         "--discovery-port", "0", "--model", "S30", "--firmware", "7.06", "--time-factor", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(r"ready control=(\d+) image=(\d+) discovery=(\d+)\n", line)
        assert match, line
        control = int(match.group(1))
        with socket.create_connection(("127.0.0.1", control), timeout=5) as sock:
            sock.sendall(json.dumps({"method": "get_device_state", "params": ["verify"], "id": 1}).encode() + b"\r\n")
            reply = json.loads(sock.makefile("rb").readline())
        assert reply["result"]["device"]["product_model"] == "Seestar S30"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line on stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_count_runs_several_fakes_each_with_its_own_ports_serial_and_discovery_answer():
    import asyncio

    from indi_seestar.seestar.discover import discover

    proc = subprocess.Popen(
        [sys.executable, "-m", "indi_seestar.sim", "--control-port", "0", "--image-port", "0",
         "--discovery-port", "0", "--count", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        ports = [tuple(map(int, re.fullmatch(r"ready control=(\d+) image=(\d+) discovery=(\d+)\n",
                                             line).groups())) for line in lines]
        assert len({p for trio in ports for p in trio}) == 6
        serials = []
        for control, _, discovery in ports:
            with socket.create_connection(("127.0.0.1", control), timeout=5) as sock:
                sock.sendall(json.dumps({"method": "get_device_state", "params": ["verify"],
                                         "id": 1}).encode() + b"\r\n")
                serial = json.loads(sock.makefile("rb").readline())["result"]["device"]["sn"]
            replies = asyncio.run(discover("127.0.0.1", discovery, timeout_s=1.0))
            assert [r.serial for r in replies] == [serial]
            serials.append(serial)
        assert serials[0] != serials[1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
