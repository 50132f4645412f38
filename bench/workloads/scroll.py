#!/usr/bin/env python3
"""Scrolling-terminal workload for bench/desktop: prints LINES lines of log-like text
60 times a second into the terminal it runs in (LINES=3 by default: 180 lines/s, so
every text row of the terminal changes each tick), then exits after SECONDS.

    python3 scroll.py SECONDS [LINES]

Same text on every run (fixed seed); lines as wide as the terminal minus one column.
The idea comes from the black-box harness's scroll workload; written anew here.
"""
import os
import random
import sys
import time

WORDS = ("compiling linking warning note error ok cached fetch build test running "
         "passed failed src lib crates protocol desktop worker session frame tile "
         "encode decode region damage surface cursor update 0x7f3a 42 1337 ms MB").split()


def main():
    seconds = min(max(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0, 1.0), 600.0)
    per_tick = min(max(int(sys.argv[2]) if len(sys.argv) > 2 else 3, 1), 50)
    try:
        cols = os.get_terminal_size().columns
    except OSError:
        cols = 80
    width = max(20, min(cols, 400) - 1)
    rng = random.Random(8)
    out = sys.stdout
    start = time.monotonic()
    n = 0
    for tick in range(int(seconds * 60)):
        lines = []
        for _ in range(per_tick):
            text = "%08d %s" % (n, " ".join(rng.choice(WORDS) for _ in range(width // 4)))
            lines.append(text[:width])
            n += 1
        out.write("\n".join(lines) + "\n")
        out.flush()
        pause = start + (tick + 1) / 60 - time.monotonic()
        if pause > 0:
            time.sleep(pause)


if __name__ == "__main__":
    main()
