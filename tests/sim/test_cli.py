"""indi_seestar_sim as a subprocess: one ready line, a working scope, clean exit on SIGTERM."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time


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


def test_cli_firmware_8_46_drops_a_silent_connection_unless_told_not_to():
    def run(extra: list[str]) -> bool:
        """Whether a silent control connection is closed within 2 s (16 scope s at x20 = 0.8 s)."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "indi_seestar.sim", "--control-port", "0", "--image-port", "0",
             "--discovery-port", "0", "--firmware", "8.46", "--time-factor", "20", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            control = int(re.search(r"control=(\d+)", proc.stdout.readline()).group(1))
            with socket.create_connection(("127.0.0.1", control), timeout=5) as sock:
                deadline = time.monotonic() + 2.0
                while (left := deadline - time.monotonic()) > 0:  # events may come: read past them
                    sock.settimeout(left)
                    try:
                        if sock.recv(65536) == b"":
                            return True  # EOF: the fake closed it
                    except TimeoutError:
                        break
                return False
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)

    assert run([]) is True
    assert run(["--idle-drop-s", "0"]) is False
