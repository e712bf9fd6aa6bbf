"""The benchmark suite of issue 6 (`make bench` = `python -m bench --out bench/results.json`).

One module per benchmark, each with a `run(...)` returning its section of results.json:
b1_frames (frame path against the floor and libindi's CCD simulator), b2_control (commands and
events), b3_startup, b4_memory, b5_responsive (loop stalls and getProperties while streaming).
Shared: procs (fake process, indiserver stage, CPU/RSS, pinning), client (pyindi-client with
timestamps), rig (our driver under indiserver), floor (B1's floor process), rawdriver (a
do-nothing camera for the transport ceiling), stats, report. Only 127.0.0.1 and indiserver's
unix socket are used. Nothing here is imported by the driver.
"""
