#!/usr/bin/env python3
"""Full-screen animation workload for bench/desktop: an override-redirect window over the
whole screen, every pixel repainted 60 times a second, for SECONDS (or until a key or
button press). Stdlib + libX11 through ctypes (no tkinter, no python3-xlib needed).

    python3 animation.py SECONDS [smooth|noise]

smooth (default): a smooth, seamlessly tiling colour field (512x512 tile of sines) that
    pans along a Lissajous path, with 16 solid discs moving across it: global and local
    motion, like video or a game; nearly every pixel changes in every frame.
noise: the XOR of two high-frequency tiles (256x256 and 240x200) moving in different
    directions: no motion vector fits, no 64x64 repeats; a worst case for any codec.
The idea (tiled layers moved with XSetTSOrigin, drawn by the X server) comes from the
black-box harness's fullscreen workload; written anew here.
"""
import ctypes as C
import math
import sys
import time

X = C.CDLL("libX11.so.6")
vp, ul, ci, cu = C.c_void_p, C.c_ulong, C.c_int, C.c_uint


class SetWindowAttributes(C.Structure):
    _fields_ = [("background_pixmap", ul), ("background_pixel", ul), ("border_pixmap", ul),
                ("border_pixel", ul), ("bit_gravity", ci), ("win_gravity", ci),
                ("backing_store", ci), ("backing_planes", ul), ("backing_pixel", ul),
                ("save_under", ci), ("event_mask", C.c_long), ("do_not_propagate_mask", C.c_long),
                ("override_redirect", ci), ("colormap", ul), ("cursor", ul)]


def sig(name, res, args):
    f = getattr(X, name)
    f.restype, f.argtypes = res, args
    return f


XOpenDisplay = sig("XOpenDisplay", vp, [C.c_char_p])
XDefaultScreen = sig("XDefaultScreen", ci, [vp])
XRootWindow = sig("XRootWindow", ul, [vp, ci])
XDefaultVisual = sig("XDefaultVisual", vp, [vp, ci])
XDefaultDepth = sig("XDefaultDepth", ci, [vp, ci])
XDisplayWidth = sig("XDisplayWidth", ci, [vp, ci])
XDisplayHeight = sig("XDisplayHeight", ci, [vp, ci])
XCreateWindow = sig("XCreateWindow", ul, [vp, ul, ci, ci, cu, cu, cu, ci, cu, vp, ul,
                                          C.POINTER(SetWindowAttributes)])
XMapRaised = sig("XMapRaised", ci, [vp, ul])
XCreatePixmap = sig("XCreatePixmap", ul, [vp, ul, cu, cu, cu])
XCreateGC = sig("XCreateGC", vp, [vp, ul, ul, vp])
XCreateImage = sig("XCreateImage", vp, [vp, vp, cu, ci, ci, vp, cu, cu, ci, ci])
XPutImage = sig("XPutImage", ci, [vp, ul, vp, vp, ci, ci, ci, ci, cu, cu])
XSetTile = sig("XSetTile", ci, [vp, vp, ul])
XSetFillStyle = sig("XSetFillStyle", ci, [vp, vp, ci])
XSetTSOrigin = sig("XSetTSOrigin", ci, [vp, vp, ci, ci])
XSetFunction = sig("XSetFunction", ci, [vp, vp, ci])
XSetForeground = sig("XSetForeground", ci, [vp, vp, ul])
XFillRectangle = sig("XFillRectangle", ci, [vp, ul, vp, ci, ci, cu, cu])
XFillArc = sig("XFillArc", ci, [vp, ul, vp, ci, ci, cu, cu, ci, ci])
XSync = sig("XSync", ci, [vp, ci])
XPending = sig("XPending", ci, [vp])
XNextEvent = sig("XNextEvent", ci, [vp, vp])
KEY_PRESS, BUTTON_PRESS = 2, 4
KEY_PRESS_MASK, BUTTON_PRESS_MASK, EXPOSURE_MASK = 1, 4, 1 << 15
CW_OVERRIDE_REDIRECT, CW_EVENT_MASK = 1 << 9, 1 << 11
GX_COPY, GX_XOR, FILL_SOLID, FILL_TILED, ZPIXMAP = 3, 6, 0, 1, 2


def make_tile(dpy, win, gc, vis, depth, w, h, colour):
    """A w x h pixmap; colour(x, y) -> (r, g, b)."""
    buf = bytearray(w * h * 4)
    for y in range(h):
        row = y * w * 4
        for x in range(w):
            r, g, b = colour(x, y)
            o = row + x * 4
            buf[o], buf[o + 1], buf[o + 2] = b, g, r
    data = (C.c_char * len(buf)).from_buffer(buf)
    img = XCreateImage(dpy, vis, depth, ZPIXMAP, 0, C.addressof(data), w, h, 32, 0)
    pix = XCreatePixmap(dpy, win, w, h, depth)
    XPutImage(dpy, pix, gc, img, 0, 0, 0, 0, w, h)
    XSync(dpy, 0)
    return pix, data  # keep the buffer alive as long as the image


def smooth_tile(x, y):
    t = 2 * math.pi / 512  # one period per 512-pixel tile: seamless
    r = 128 + 60 * math.sin(x * t) + 60 * math.sin(y * t * 2)
    g = 128 + 100 * math.sin((x + 2 * y) * t + 1.0)
    b = 128 + 100 * math.cos(x * t * 2) * math.sin(y * t)
    return int(r), int(g), int(b)


def noise_a(x, y):
    return (x ^ y) & 255, (x * 5 + y * 3) & 255, ((y * 7) ^ (x * 3)) & 255


def noise_b(x, y):
    return (x * y >> 3) & 255, (x * 2 + y * 9) & 255, ((x * 11) ^ y) & 255


def bounce(pos, span):
    """pos folded into 0..span, back and forth."""
    p = pos % (2 * span)
    return p if p <= span else 2 * span - p


def main():
    seconds = min(max(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0, 1.0), 600.0)
    mode = sys.argv[2] if len(sys.argv) > 2 else "smooth"
    if mode not in ("smooth", "noise"):
        sys.exit("animation.py: mode must be smooth or noise")
    dpy = XOpenDisplay(None)
    if not dpy:
        sys.exit("animation.py: cannot open DISPLAY")
    scr = XDefaultScreen(dpy)
    root, vis, depth = XRootWindow(dpy, scr), XDefaultVisual(dpy, scr), XDefaultDepth(dpy, scr)
    w, h = XDisplayWidth(dpy, scr), XDisplayHeight(dpy, scr)
    attrs = SetWindowAttributes()
    attrs.override_redirect = 1
    attrs.event_mask = KEY_PRESS_MASK | BUTTON_PRESS_MASK | EXPOSURE_MASK
    win = XCreateWindow(dpy, root, 0, 0, w, h, 0, depth, 1, vis,
                        CW_OVERRIDE_REDIRECT | CW_EVENT_MASK, C.byref(attrs))
    gc = XCreateGC(dpy, win, 0, None)
    if mode == "smooth":
        tiles = [make_tile(dpy, win, gc, vis, depth, 512, 512, smooth_tile)]
    else:
        tiles = [make_tile(dpy, win, gc, vis, depth, 256, 256, noise_a),
                 make_tile(dpy, win, gc, vis, depth, 240, 200, noise_b)]
    XMapRaised(dpy, win)
    ev = C.create_string_buffer(256)
    discs = [((37 * i) % w, (53 * i) % h, 3 + i % 5, 2 + (i * 3) % 7, 40 + 6 * i,
              ((i * 73) % 256) << 16 | ((i * 151) % 256) << 8 | (i * 199) % 256) for i in range(16)]
    start = time.monotonic()
    for n in range(int(seconds * 60)):
        while XPending(dpy):
            XNextEvent(dpy, ev)
            if C.c_int.from_buffer(ev).value in (KEY_PRESS, BUTTON_PRESS):
                return
        XSetFillStyle(dpy, gc, FILL_TILED)
        if mode == "smooth":
            XSetFunction(dpy, gc, GX_COPY)
            XSetTile(dpy, gc, tiles[0][0])
            XSetTSOrigin(dpy, gc, int(300 * math.sin(n / 97)), int(200 * math.sin(n / 61)))
            XFillRectangle(dpy, win, gc, 0, 0, w, h)
            XSetFillStyle(dpy, gc, FILL_SOLID)
            for x0, y0, vx, vy, size, colour in discs:
                XSetForeground(dpy, gc, colour)
                XFillArc(dpy, win, gc, bounce(x0 + vx * n, w - size), bounce(y0 + vy * n, h - size),
                         size, size, 0, 360 * 64)
        else:
            XSetFunction(dpy, gc, GX_COPY)
            XSetTile(dpy, gc, tiles[0][0])
            XSetTSOrigin(dpy, gc, 5 * n, 3 * n)
            XFillRectangle(dpy, win, gc, 0, 0, w, h)
            XSetFunction(dpy, gc, GX_XOR)
            XSetTile(dpy, gc, tiles[1][0])
            XSetTSOrigin(dpy, gc, -4 * n, 7 * n)
            XFillRectangle(dpy, win, gc, 0, 0, w, h)
        XSync(dpy, 0)
        pause = start + (n + 1) / 60 - time.monotonic()
        if pause > 0:
            time.sleep(pause)


if __name__ == "__main__":
    main()
