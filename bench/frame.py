#!/usr/bin/env python3
"""Pixel oracles on the xfreerdp client window, for bench/run (stdlib + libX11/libXtst).

  frame.py first   --pid PID --deadline EPOCH_MS
      Finds the top-level window whose _NET_WM_PID is PID, then polls a few pixels
      every 5 ms. Prints (epoch milliseconds, like `date +%s%3N`):
        window_at=   the client window exists
        nonblack_at= any of 16 grid points is not black (first pixels drawn)
        xterm_at=    three points inside the session's xterm (80x24 at +0+0, white
                     background) are near-white: the session itself is on screen
  frame.py latency --pid PID --samples N
      Key-to-echo: presses "x" (XTEST) into the focused client window and times until
      the cursor rows change, then BackSpace; one calibration key finds the rows.
      Prints samples= median_ms= min_ms= max_ms= all_ms=

DISPLAY must be the client's X server. Every loop is bounded by a deadline.
"""
import argparse
import ctypes as C
import random
import statistics
import sys
import time

X = C.CDLL("libX11.so.6")
XTST = C.CDLL("libXtst.so.6")
vp, ul, ci, cu = C.c_void_p, C.c_ulong, C.c_int, C.c_uint


class XImage(C.Structure):
    _fields_ = [("width", ci), ("height", ci), ("xoffset", ci), ("format", ci), ("data", vp),
                ("byte_order", ci), ("bitmap_unit", ci), ("bitmap_bit_order", ci),
                ("bitmap_pad", ci), ("depth", ci), ("bytes_per_line", ci),
                ("bits_per_pixel", ci)]  # rest unused


def sig(lib, name, res, args):
    f = getattr(lib, name)
    f.restype, f.argtypes = res, args
    return f


XOpenDisplay = sig(X, "XOpenDisplay", vp, [C.c_char_p])
XDefaultRootWindow = sig(X, "XDefaultRootWindow", ul, [vp])
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
XKeysymToKeycode = sig(X, "XKeysymToKeycode", C.c_ubyte, [vp, ul])
XStringToKeysym = sig(X, "XStringToKeysym", ul, [C.c_char_p])
XTestFakeKeyEvent = sig(XTST, "XTestFakeKeyEvent", ci, [vp, cu, ci, ul])
ERRH = C.CFUNCTYPE(ci, vp, vp)(lambda d, e: 0)  # ignore BadMatch etc. while windows come and go
X.XSetErrorHandler(ERRH)
ZPIXMAP, ALLPLANES, XA_CARDINAL = 2, 0xFFFFFFFF, 6


def epoch_ms():
    return int(time.time() * 1000)


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


def size(dpy, win):
    r, x, y, w, h, b, d = ul(), ci(), ci(), cu(), cu(), cu(), cu()
    if not XGetGeometry(dpy, win, C.byref(r), C.byref(x), C.byref(y), C.byref(w), C.byref(h),
                        C.byref(b), C.byref(d)):
        return 0, 0
    return w.value, h.value


def grab(dpy, win, x, y, w, h):
    """Raw 32-bpp rows of a rectangle, or None (window not viewable yet)."""
    img = XGetImage(dpy, win, x, y, w, h, ALLPLANES, ZPIXMAP)
    if not img:
        return None
    data = C.string_at(img.contents.data, img.contents.bytes_per_line * h)
    bpl = img.contents.bytes_per_line
    XDestroyImage(img)
    return data, bpl


def pixel(dpy, win, x, y):
    g = grab(dpy, win, x, y, 1, 1)
    return None if g is None else tuple(g[0][0:3])


def first(dpy, pid, deadline):
    win = None
    out = {}
    while epoch_ms() < deadline:
        if win is None:
            win = find_window(dpy, pid)
            if win is None:
                time.sleep(0.005)
                continue
            out["window_at"] = epoch_ms()
            w, h = size(dpy, win)
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


def key(dpy, name):
    code = XKeysymToKeycode(dpy, XStringToKeysym(name.encode()))
    XTestFakeKeyEvent(dpy, code, 1, 0)
    XTestFakeKeyEvent(dpy, code, 0, 0)
    XSync(dpy, 0)


def wait_change(dpy, win, rect, before, limit_s):
    t_end = time.monotonic() + limit_s
    while time.monotonic() < t_end:
        g = grab(dpy, win, *rect)
        if g and g[0] != before:
            return g
        time.sleep(0.001)
    return None


def latency(dpy, pid, samples):
    win = find_window(dpy, pid)
    if win is None:
        print("error: no client window", file=sys.stderr)
        return 2
    w, h = size(dpy, win)
    full = (0, 0, w, h)
    base = grab(dpy, win, *full)
    key(dpy, "x")
    after = wait_change(dpy, win, full, base[0], 5)
    if after is None:
        print("error: calibration key changed nothing", file=sys.stderr)
        return 2
    time.sleep(0.3)
    after = grab(dpy, win, *full)
    bpl = base[1]
    rows = [y for y in range(h) if base[0][y * bpl:(y + 1) * bpl] != after[0][y * bpl:(y + 1) * bpl]]
    y0, y1 = max(0, rows[0] - 24), min(h, rows[-1] + 25)
    rect = (0, y0, w, y1 - y0)
    key(dpy, "BackSpace")
    res = []
    for _ in range(samples):
        time.sleep(0.15 + random.random() * 0.05)  # let it settle; de-phase frame timers
        before = grab(dpy, win, *rect)[0]
        t0 = time.monotonic()
        key(dpy, "x")
        if wait_change(dpy, win, rect, before, 3) is not None:
            res.append((time.monotonic() - t0) * 1000)
        time.sleep(0.1)
        before = grab(dpy, win, *rect)[0]
        key(dpy, "BackSpace")
        wait_change(dpy, win, rect, before, 3)
    if not res:
        print("error: no echo seen", file=sys.stderr)
        return 2
    print(f"samples={len(res)}")
    print(f"median_ms={statistics.median(res):.1f}")
    print(f"min_ms={min(res):.1f}")
    print(f"max_ms={max(res):.1f}")
    print("all_ms=" + ",".join(f"{v:.1f}" for v in res))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["first", "latency"])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--deadline", type=int, default=0)
    ap.add_argument("--samples", type=int, default=10)
    a = ap.parse_args()
    dpy = XOpenDisplay(None)
    if not dpy:
        print("error: cannot open DISPLAY", file=sys.stderr)
        return 2
    if a.mode == "first":
        return first(dpy, a.pid, a.deadline or epoch_ms() + 30000)
    return latency(dpy, a.pid, max(1, min(a.samples, 200)))


if __name__ == "__main__":
    sys.exit(main())
