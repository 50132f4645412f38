#!/usr/bin/env python3
"""Pixel oracles on an X window, for bench/run and bench/desktop.

Stdlib only: libX11, libXext (MIT-SHM), libXtst and libXdamage through ctypes.
The fps and latency methods follow the black-box harness's rdp-fps/rdp-latency
(shared-memory grabs woken by DAMAGE, probe blocks inside one codec block); this is
a separate implementation for the repository, which must not depend on that harness.

  frame.py first   --pid PID --deadline EPOCH_MS
      Finds the top-level window whose _NET_WM_PID is PID, then polls a few pixels
      every 5 ms. Prints (epoch milliseconds, like `date +%s%3N`):
        window_at=   the client window exists
        nonblack_at= any of 16 grid points is not black (first pixels drawn)
        xterm_at=    three points inside the session's xterm (at +0+0, white
                     background, at least 67x22 characters) are near-white
  frame.py latency (--pid PID | --root) [--samples N]
      Key-to-echo: one calibration key ("x") finds the rows that change; then per
      sample: wait until those rows are quiet, a random 0-50 ms pause, press "x"
      (XTEST, sent by this process just after t0), time until the rows differ, then
      BackSpace. Prints samples= missed= median_ms= p95_ms= min_ms= max_ms= all_ms=
  frame.py fps (--pid PID | --root) --seconds S [--port P]
               [--server-pids PID,...] [--exclude-comms NAME,...]
      For S seconds: grab the whole window whenever the X server reports DAMAGE on it
      (at least every 20 ms, at most every 4 ms) and compare with the previous grab. fps = median over the
      probe blocks that changed at least 3 times of their change rate; a probe is 8x8
      pixels at (64i+24, 64j+24), inside one 8x8 block, 16x16 macroblock and 64x64
      RemoteFX tile of any grid aligned to the window, so a frame that arrives in
      pieces changes each probe once. Updates landing between two grabs merge; a
      probe whose pixels happen to be equal in two frames does not count that frame.
      Bytes: bytes_received of PID's TCP sockets to port P (`ss -tinp`) before and
      after. CPU: utime+stime over the process trees of --server-pids (processes
      that start meanwhile count from zero; ones that exit are lost), minus processes
      whose name is in --exclude-comms (the workload and its terminal).
      Prints fps= fps_p90= probes_active= window_changes_per_s= mbit_per_s=
      server_cpu_pct= server_cpu_total_pct= x_server_cpu_pct= (Xorg, Xvfb; part of
      server_cpu_pct) cpu_by_comm= client_cpu_pct=
      measure_cpu_pct= grab_ms_median= seconds=
  frame.py floor (--pid PID | --root)
      Cost of one grab + compare of the whole window.

DISPLAY must be the X server holding the window (the client's display). Every loop
is bounded by a count and a wall-clock deadline.
"""
import argparse
import ctypes as C
import os
import random
import re
import select
import statistics
import subprocess
import sys
import time

X = C.CDLL("libX11.so.6")
XEXT = C.CDLL("libXext.so.6")
XTST = C.CDLL("libXtst.so.6")
XDAMAGE = C.CDLL("libXdamage.so.1")
LIBC = C.CDLL("libc.so.6", use_errno=True)
vp, ul, ci, cu = C.c_void_p, C.c_ulong, C.c_int, C.c_uint


class XImage(C.Structure):
    _fields_ = [("width", ci), ("height", ci), ("xoffset", ci), ("format", ci), ("data", vp),
                ("byte_order", ci), ("bitmap_unit", ci), ("bitmap_bit_order", ci),
                ("bitmap_pad", ci), ("depth", ci), ("bytes_per_line", ci),
                ("bits_per_pixel", ci)]  # rest unused


class ShmSegmentInfo(C.Structure):
    _fields_ = [("shmseg", ul), ("shmid", ci), ("shmaddr", vp), ("readOnly", ci)]


def sig(lib, name, res, args):
    f = getattr(lib, name)
    f.restype, f.argtypes = res, args
    return f


XOpenDisplay = sig(X, "XOpenDisplay", vp, [C.c_char_p])
XDefaultRootWindow = sig(X, "XDefaultRootWindow", ul, [vp])
XDefaultScreen = sig(X, "XDefaultScreen", ci, [vp])
XDefaultVisual = sig(X, "XDefaultVisual", vp, [vp, ci])
XConnectionNumber = sig(X, "XConnectionNumber", ci, [vp])
XPending = sig(X, "XPending", ci, [vp])
XNextEvent = sig(X, "XNextEvent", ci, [vp, vp])
XInternAtom = sig(X, "XInternAtom", ul, [vp, C.c_char_p, ci])
XQueryTree = sig(X, "XQueryTree", ci, [vp, ul, C.POINTER(ul), C.POINTER(ul),
                                       C.POINTER(C.POINTER(ul)), C.POINTER(cu)])
XGetWindowProperty = sig(X, "XGetWindowProperty", ci, [
    vp, ul, ul, C.c_long, C.c_long, ci, ul, C.POINTER(ul), C.POINTER(ci),
    C.POINTER(ul), C.POINTER(ul), C.POINTER(C.POINTER(C.c_ubyte))])
XGetGeometry = sig(X, "XGetGeometry", ci, [vp, ul, C.POINTER(ul), C.POINTER(ci), C.POINTER(ci),
                                           C.POINTER(cu), C.POINTER(cu), C.POINTER(cu),
                                           C.POINTER(cu)])
XGetImage = sig(X, "XGetImage", C.POINTER(XImage), [vp, ul, ci, ci, cu, cu, ul, ci])
XDestroyImage = sig(X, "XDestroyImage", ci, [C.POINTER(XImage)])
XFree = sig(X, "XFree", ci, [vp])
XSync = sig(X, "XSync", ci, [vp, ci])
XFlush = sig(X, "XFlush", ci, [vp])
XKeysymToKeycode = sig(X, "XKeysymToKeycode", C.c_ubyte, [vp, ul])
XStringToKeysym = sig(X, "XStringToKeysym", ul, [C.c_char_p])
XTestFakeKeyEvent = sig(XTST, "XTestFakeKeyEvent", ci, [vp, cu, ci, ul])
XShmCreateImage = sig(XEXT, "XShmCreateImage", C.POINTER(XImage),
                      [vp, vp, cu, ci, vp, C.POINTER(ShmSegmentInfo), cu, cu])
XShmAttach = sig(XEXT, "XShmAttach", ci, [vp, C.POINTER(ShmSegmentInfo)])
XShmGetImage = sig(XEXT, "XShmGetImage", ci, [vp, ul, C.POINTER(XImage), ci, ci, ul])
XDamageQueryExtension = sig(XDAMAGE, "XDamageQueryExtension", ci, [vp, C.POINTER(ci), C.POINTER(ci)])
XDamageCreate = sig(XDAMAGE, "XDamageCreate", ul, [vp, ul, ci])
XDamageSubtract = sig(XDAMAGE, "XDamageSubtract", None, [vp, ul, ul, ul])
shmget = sig(LIBC, "shmget", ci, [ci, C.c_size_t, ci])
shmat = sig(LIBC, "shmat", vp, [ci, vp, ci])
shmctl = sig(LIBC, "shmctl", ci, [ci, ci, vp])
memcmp = sig(LIBC, "memcmp", ci, [vp, vp, C.c_size_t])
ERRH = C.CFUNCTYPE(ci, vp, vp)(lambda d, e: 0)  # ignore BadMatch etc. while windows come and go
X.XSetErrorHandler(ERRH)
ZPIXMAP, ALLPLANES, XA_CARDINAL = 2, 0xFFFFFFFF, 6
IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0
DAMAGE_REPORT_NON_EMPTY = 3
PROBE_STEP, PROBE_OFF, PROBE_SIZE = 64, 24, 8
MIN_GRAB_GAP_S = 0.004  # fps mode: up to 250 grabs/s, well above any frame rate measured
# The terminal and the workload inside a server's process tree (not the server's work).
DEFAULT_EXCLUDE = "xterm,sh,bash,dash,python3,python3.11"
X_SERVER_COMMS = {"Xorg", "Xvfb"}


def epoch_ms():
    return int(time.time() * 1000)


def mono_ms():
    return time.monotonic() * 1000.0


def kv(key, value):
    if isinstance(value, float):
        value = "%.2f" % value
    print("%s=%s" % (key, value), flush=True)


def percentile(values, p):
    """Linear interpolation between closest ranks (as numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# ---------------------------------------------------------------- windows
def find_window(dpy, pid):
    """Breadth-first over the window tree (bounded): first window with _NET_WM_PID == pid."""
    atom = XInternAtom(dpy, b"_NET_WM_PID", 0)
    queue, seen = [XDefaultRootWindow(dpy)], 0
    while queue and seen < 5000:
        win = queue.pop(0)
        seen += 1
        t, f, items, after = ul(), ci(), ul(), ul()
        prop = C.POINTER(C.c_ubyte)()
        if XGetWindowProperty(dpy, win, atom, 0, 1, 0, XA_CARDINAL, C.byref(t), C.byref(f),
                              C.byref(items), C.byref(after), C.byref(prop)) == 0 and prop:
            hit = items.value == 1 and C.cast(prop, C.POINTER(C.c_ulong))[0] == pid
            XFree(prop)
            if hit:
                return win
        r, p, n = ul(), ul(), cu()
        kids = C.POINTER(ul)()
        if XQueryTree(dpy, win, C.byref(r), C.byref(p), C.byref(kids), C.byref(n)) and kids:
            queue.extend(kids[i] for i in range(n.value))
            XFree(kids)
    return None


def geometry(dpy, win):
    r, x, y, w, h, b, d = ul(), ci(), ci(), cu(), cu(), cu(), cu()
    if not XGetGeometry(dpy, win, C.byref(r), C.byref(x), C.byref(y), C.byref(w), C.byref(h),
                        C.byref(b), C.byref(d)):
        return 0, 0, 0
    return w.value, h.value, d.value


def target_window(dpy, a):
    if a.root:
        return XDefaultRootWindow(dpy)
    win = find_window(dpy, a.pid)
    if win is None:
        raise SystemExit("error: no window with _NET_WM_PID %d" % a.pid)
    return win


# ---------------------------------------------------------------- pixels
def grab_slow(dpy, win, x, y, w, h):
    """Raw 32-bpp rows of a rectangle through the X protocol, or None (not viewable yet)."""
    img = XGetImage(dpy, win, x, y, w, h, ALLPLANES, ZPIXMAP)
    if not img:
        return None
    data = C.string_at(img.contents.data, img.contents.bytes_per_line * h)
    XDestroyImage(img)
    return data


def pixel(dpy, win, x, y):
    g = grab_slow(dpy, win, x, y, 1, 1)
    return None if g is None else tuple(g[0:3])


class Grabber:
    """Two MIT-SHM images of a w x h area at (x, y) of a window, compared with memcmp."""

    def __init__(self, dpy, win, x, y, w, h, depth):
        self.dpy, self.win, self.x, self.y, self.w, self.h = dpy, win, x, y, w, h
        vis = XDefaultVisual(dpy, XDefaultScreen(dpy))
        self.imgs, self.infos = [], []
        for _ in range(2):
            info = ShmSegmentInfo()
            img = XShmCreateImage(dpy, vis, depth, ZPIXMAP, None, C.byref(info), w, h)
            if not img:
                raise SystemExit("error: XShmCreateImage failed")
            size = img.contents.bytes_per_line * h
            info.shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
            if info.shmid < 0:
                raise SystemExit("error: shmget failed")
            info.shmaddr = shmat(info.shmid, None, 0)
            if info.shmaddr in (None, C.c_void_p(-1).value):
                raise SystemExit("error: shmat failed")
            img.contents.data = info.shmaddr
            info.readOnly = 0
            XShmAttach(dpy, C.byref(info))
            XSync(dpy, 0)
            shmctl(info.shmid, IPC_RMID, None)  # freed once both sides detach
            self.imgs.append(img)
            self.infos.append(info)
        self.bpl = self.imgs[0].contents.bytes_per_line
        self.size = self.bpl * h
        self.views = [memoryview((C.c_char * self.size).from_address(im.contents.data)).cast("B")
                      for im in self.imgs]

    def grab(self, i):
        if not XShmGetImage(self.dpy, self.win, self.imgs[i], self.x, self.y, ALLPLANES):
            raise SystemExit("error: XShmGetImage failed (window gone or unmapped?)")

    def differs(self, a, b):
        return memcmp(self.imgs[a].contents.data, self.imgs[b].contents.data, self.size) != 0

    def changed_rows(self, a, b):
        pa, pb, bpl = self.imgs[a].contents.data, self.imgs[b].contents.data, self.bpl
        rows = [r for r in range(self.h) if memcmp(pa + r * bpl, pb + r * bpl, bpl) != 0]
        return (rows[0], rows[-1]) if rows else None

    def probes(self):
        """Byte offsets of each probe's rows."""
        out = []
        for y in range(PROBE_OFF, self.h - PROBE_SIZE + 1, PROBE_STEP):
            for x in range(PROBE_OFF, self.w - PROBE_SIZE + 1, PROBE_STEP):
                out.append([(y + r) * self.bpl + x * 4 for r in range(PROBE_SIZE)])
        return out

    def probe_values(self, i, probes):
        v, n = self.views[i], PROBE_SIZE * 4
        return [b"".join([v[o:o + n] for o in rows]) for rows in probes]


class DamageWait:
    """Sleep until the X server reports DAMAGE on the window, at most poll_s at a time."""

    def __init__(self, dpy, win, poll_s=0.02):
        self.dpy, self.poll_s = dpy, poll_s
        self.fd = XConnectionNumber(dpy)
        self.ev = C.create_string_buffer(256)
        eb, erb = ci(), ci()
        if not XDamageQueryExtension(dpy, C.byref(eb), C.byref(erb)):
            raise SystemExit("error: the X server has no DAMAGE extension")
        self.damage = XDamageCreate(dpy, win, DAMAGE_REPORT_NON_EMPTY)
        XSync(dpy, 0)

    def _drain(self):
        n = 0
        while XPending(self.dpy) and n < 100000:
            XNextEvent(self.dpy, self.ev)
            n += 1
        if n:
            XDamageSubtract(self.dpy, self.damage, 0, 0)
            XFlush(self.dpy)
        return n

    def wait(self, deadline):
        if self._drain():
            return
        select.select([self.fd], [], [], max(0.0, min(self.poll_s, deadline - time.monotonic())))
        self._drain()


def grab_cost(g, n=60, max_s=2.0):
    """Milliseconds per grab + compare of the whole area (the polling resolution)."""
    out, end = [], time.monotonic() + max_s
    g.grab(0)
    for _ in range(n):
        if time.monotonic() > end:
            break
        t = mono_ms()
        g.grab(1)
        g.differs(0, 1)
        out.append(mono_ms() - t)
    return out


# ---------------------------------------------------------------- first frame
def first(dpy, pid, deadline):
    win = None
    out = {}
    grid = []
    while epoch_ms() < deadline:
        if win is None:
            win = find_window(dpy, pid)
            if win is None:
                time.sleep(0.005)
                continue
            out["window_at"] = epoch_ms()
            w, h, _ = geometry(dpy, win)
            grid = [(w * (i + 1) // 5, h * (j + 1) // 5) for i in range(4) for j in range(4)]
        now = epoch_ms()
        px = [pixel(dpy, win, x, y) for x, y in grid + [(240, 200), (400, 280), (100, 250)]]
        if all(p is not None for p in px):
            if "nonblack_at" not in out and any(max(p) > 16 for p in px):
                out["nonblack_at"] = now
            if all(min(p) > 200 for p in px[-3:]):
                out["xterm_at"] = now
                break
        time.sleep(0.005)
    for k, v in out.items():
        print(f"{k}={v}")
    return 0 if "xterm_at" in out else 1


# ---------------------------------------------------------------- key to echo
def keycode(dpy, name):
    code = XKeysymToKeycode(dpy, XStringToKeysym(name.encode()))
    if not code:
        raise SystemExit("error: no keycode for %s" % name)
    return code


def press(dpy, code):
    XTestFakeKeyEvent(dpy, code, 1, 0)
    XTestFakeKeyEvent(dpy, code, 0, 0)
    XFlush(dpy)


def wait_change(g, dw, deadline):
    """Grab image 1 until it differs from image 0; the monotonic ms it did, or None."""
    for _ in range(1_000_000):
        if time.monotonic() > deadline:
            return None
        g.grab(1)
        if g.differs(0, 1):
            return mono_ms()
        dw.wait(deadline)
    return None


def wait_quiet(g, dw, quiet_ms, max_s):
    """Until the area has not changed for quiet_ms (bounded); leaves it in image 0."""
    end = time.monotonic() + max_s
    g.grab(0)
    last = mono_ms()
    while time.monotonic() < end:
        dw.wait(end)
        g.grab(1)
        if g.differs(0, 1):
            g.grab(0)
            last = mono_ms()
        elif mono_ms() - last >= quiet_ms:
            return True
    return False


def latency(dpy, a):
    win = target_window(dpy, a)
    w, h, depth = geometry(dpy, win)
    kx, kbs = keycode(dpy, "x"), keycode(dpy, "BackSpace")
    dw = DamageWait(dpy, win)
    full = Grabber(dpy, win, 0, 0, w, h, depth)
    if not wait_quiet(full, dw, 300, 5):
        kv("warning", "window_not_quiet_before_calibration")
    press(dpy, kx)
    if wait_change(full, dw, time.monotonic() + 5) is None:
        print("error: calibration key changed nothing", file=sys.stderr)
        return 2
    time.sleep(0.3)  # let the rest of the echo land
    full.grab(1)
    rows = full.changed_rows(0, 1)
    press(dpy, kbs)
    if rows is None:
        print("error: calibration echo vanished", file=sys.stderr)
        return 2
    y0, y1 = max(0, rows[0] - 24), min(h, rows[1] + 25)
    kv("region", "%dx%d+0+%d" % (w, y1 - y0, y0))
    g = Grabber(dpy, win, 0, y0, w, y1 - y0, depth)
    kv("grab_ms_median", statistics.median(grab_cost(g)))
    res, missed = [], 0
    end_all = time.monotonic() + 4 * a.samples + 20
    for _ in range(a.samples):
        if time.monotonic() > end_all:
            kv("warning", "deadline_reached")
            break
        wait_quiet(g, dw, 150, 3)
        time.sleep(random.uniform(0, 0.05))  # de-phase from the servers' frame timers
        g.grab(0)
        t0 = mono_ms()
        press(dpy, kx)
        t1 = wait_change(g, dw, time.monotonic() + 3)
        if t1 is None:
            missed += 1
        else:
            res.append(t1 - t0)
        wait_quiet(g, dw, 60, 2)
        press(dpy, kbs)
        wait_change(g, dw, time.monotonic() + 3)
    kv("samples", len(res))
    kv("missed", missed)
    if not res:
        print("error: no echo seen", file=sys.stderr)
        return 2
    kv("median_ms", statistics.median(res))
    kv("p95_ms", percentile(res, 95))
    kv("min_ms", min(res))
    kv("max_ms", max(res))
    kv("all_ms", ",".join("%.2f" % v for v in res))
    return 0


# ---------------------------------------------------------------- frame rate, bytes, CPU
def proc_stat(pid):
    """(ppid, comm, utime+stime ticks) of a process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    comm = s[s.index("(") + 1:s.rindex(")")]
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[1]), comm, int(fields[11]) + int(fields[12])


def tree_ticks(roots):
    """{pid: (comm, ticks)} over the process trees of roots."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                stats[int(d)] = st
    kids = {}
    for pid, (ppid, _, _) in stats.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = {}, [r for r in roots if r in stats]
    while todo and len(out) < 10000:
        p = todo.pop()
        if p not in out:
            out[p] = (stats[p][1], stats[p][2])
            todo.extend(kids.get(p, []))
    return out


def socket_bytes(pid, port):
    """bytes_received summed over pid's established TCP sockets to port, or None."""
    try:
        out = subprocess.run(["ss", "-tinpH", "state", "established"], capture_output=True,
                             text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    lines, total, found = out.splitlines(), 0, False
    for i, line in enumerate(lines):
        if line[:1].isspace() or ("pid=%d," % pid) not in line:
            continue
        cols = line.split()
        if len(cols) < 4 or not cols[3].endswith(":%d" % port):
            continue
        info = lines[i + 1] if i + 1 < len(lines) and lines[i + 1][:1].isspace() else ""
        m = re.search(r"bytes_received:(\d+)", info)
        total += int(m.group(1)) if m else 0
        found = True
    return total if found else None


def fps(dpy, a):
    win = target_window(dpy, a)
    w, h, depth = geometry(dpy, win)
    g = Grabber(dpy, win, 0, 0, w, h, depth)
    cost = grab_cost(g)
    dw = DamageWait(dpy, win)
    roots = [int(p) for p in a.server_pids.split(",") if p]
    exclude = {c for c in a.exclude_comms.split(",") if c}
    hz = os.sysconf("SC_CLK_TCK")
    probes = g.probes()
    srv0 = tree_ticks(roots)
    cli0 = proc_stat(a.pid) if a.pid else None
    me0 = os.times()
    b0 = socket_bytes(a.pid, a.port) if a.pid and a.port else None
    t_start = time.monotonic()
    end = t_start + a.seconds
    cur = 0
    g.grab(cur)
    last = g.probe_values(cur, probes)
    counts = [0] * len(probes)
    changes = grabs = 0
    last_grab = 0.0
    while time.monotonic() < end and grabs < 1_000_000:
        dw.wait(end)
        # At most one whole-window grab per MIN_GRAB_GAP_S: servers that draw a frame as
        # hundreds of small updates would otherwise make this process compete for the CPU.
        gap = last_grab + MIN_GRAB_GAP_S - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        last_grab = time.monotonic()
        nxt = 1 - cur
        g.grab(nxt)
        grabs += 1
        if not g.differs(cur, nxt):
            continue
        changes += 1
        cur = nxt
        vals = g.probe_values(cur, probes)
        for k, (old, new) in enumerate(zip(last, vals)):
            if old != new:
                counts[k] += 1
        last = vals
    elapsed = time.monotonic() - t_start
    b1 = socket_bytes(a.pid, a.port) if a.pid and a.port else None
    me1 = os.times()
    cli1 = proc_stat(a.pid) if a.pid else None
    srv1 = tree_ticks(roots)
    rates = sorted(c / elapsed for c in counts if c >= 3)
    kv("seconds", elapsed)
    kv("fps", statistics.median(rates) if rates else 0.0)
    kv("fps_p90", percentile(rates, 90) if rates else 0.0)
    kv("probes_active", "%d/%d" % (len(rates), len(probes)))
    kv("window_changes_per_s", changes / elapsed)
    kv("grab_ms_median", statistics.median(cost))
    kv("window", "%dx%d" % (w, h))
    if b0 is not None and b1 is not None:
        kv("bytes_received", b1 - b0)
        kv("mbit_per_s", (b1 - b0) * 8 / elapsed / 1e6)
    else:
        kv("mbit_per_s", "n/a")
    if roots:
        by = {}
        for pid, (comm, t1) in srv1.items():
            by[comm] = by.get(comm, 0) + t1 - srv0.get(pid, (comm, 0))[1]
        total = sum(by.values())
        excl = sum(t for c, t in by.items() if c in exclude)
        kv("server_cpu_pct", 100.0 * (total - excl) / hz / elapsed)
        kv("server_cpu_total_pct", 100.0 * total / hz / elapsed)
        xs = sum(t for c, t in by.items() if c in X_SERVER_COMMS)
        kv("x_server_cpu_pct", 100.0 * xs / hz / elapsed)
        kv("cpu_by_comm", ",".join("%s:%.1f" % (c.replace(" ", "_"), 100.0 * t / hz / elapsed)
                                   for c, t in sorted(by.items(), key=lambda x: -x[1]) if t > 0))
    if cli0 and cli1:
        kv("client_cpu_pct", 100.0 * (cli1[2] - cli0[2]) / hz / elapsed)
    kv("measure_cpu_pct", 100.0 * ((me1.user - me0.user) + (me1.system - me0.system)) / elapsed)
    return 0


def floor(dpy, a):
    win = target_window(dpy, a)
    w, h, depth = geometry(dpy, win)
    cost = grab_cost(Grabber(dpy, win, 0, 0, w, h, depth), 200, 5.0)
    kv("window", "%dx%d" % (w, h))
    kv("grab_ms_median", statistics.median(cost))
    kv("grab_ms_p95", percentile(cost, 95))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["first", "latency", "fps", "floor"])
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--root", action="store_true", help="the root window instead of --pid's")
    ap.add_argument("--deadline", type=int, default=0)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--server-pids", default="")
    ap.add_argument("--exclude-comms", default=DEFAULT_EXCLUDE)
    a = ap.parse_args()
    if not a.root and a.pid <= 0:
        ap.error("--pid or --root is required")
    if not 1 <= a.samples <= 200 or not 0.5 <= a.seconds <= 300:
        ap.error("--samples 1..200, --seconds 0.5..300")
    if a.server_pids and not re.fullmatch(r"[0-9]+(,[0-9]+)*", a.server_pids):
        ap.error("--server-pids must be PID[,PID...]")
    dpy = XOpenDisplay(None)
    if not dpy:
        print("error: cannot open DISPLAY", file=sys.stderr)
        return 2
    if a.mode == "first":
        return first(dpy, a.pid, a.deadline or epoch_ms() + 30000)
    return {"latency": latency, "fps": fps, "floor": floor}[a.mode](dpy, a)


if __name__ == "__main__":
    sys.exit(main())
