#!/usr/bin/env python3
"""bench/desktop's summary: medians, ratios and targets as markdown, and the chart.

    report.py --samples SAMPLES.tsv --meta META.txt --md OUT.md [--png OUT.png]
    report.py --self-test

SAMPLES.tsv: one `column<TAB>metric<TAB>value` line per sample. META.txt: `key=value`
lines (date, machine, versions, client options per column, ...). The table needs only
the standard library; --png needs matplotlib (bench/desktop runs this script with the
python of a venv it creates for that).
"""
import argparse
import math
import statistics
import sys
import textwrap

# Columns in display order: (key, label)
COLUMNS = [
    ("rampart", "Rampart H.264"),
    ("rampart-rfx", "Rampart RemoteFX"),
    ("shadow", "shadow H.264"),
    ("shadow-rfx", "shadow RemoteFX"),
    ("xrdp", "xrdp"),
    ("local", "local, no RDP"),
]
PEERS = ("shadow", "shadow-rfx", "xrdp")
SUBJECT = "rampart"  # the column the targets and the peer comparison are about
COLOURS = {"rampart": "#1f5fa8", "rampart-rfx": "#7fa9d9", "shadow": "#c0392b",
           "shadow-rfx": "#eb9487", "xrdp": "#2e8b3d", "local": "#9a9a9a"}
WORKLOAD_LABELS = {"scroll": "scrolling terminal", "animation": "full-screen animation",
                   "noise": "full-screen noise animation"}
# Targets of issue 8 for the subject column: (metric, target, better)
TARGETS = {"scroll_fps": 30, "scroll_mbit": 2, "scroll_cpu": 10,
           "animation_fps": 30, "animation_mbit": 10, "animation_cpu": 100,
           "latency_median": 5.5}


def rows_for(workloads):
    """(key, sample metric, statistic, label, better) for each table row."""
    rows = []
    for w in workloads:
        lab = WORKLOAD_LABELS.get(w, w)
        rows += [(w + "_fps", w + "_fps", "median", lab + ": frames/s", "high"),
                 (w + "_mbit", w + "_mbit", "median", lab + ": Mbit/s", "low"),
                 (w + "_cpu", w + "_cpu", "median", lab + ": server CPU, % of one core", "low")]
    rows += [("latency_median", "latency_ms", "median", "key-to-echo, median (ms)", "low"),
             ("latency_p95", "latency_ms", "p95", "key-to-echo, p95 (ms)", "low"),
             ("first_cold", "first_cold_ms", "median", "first frame, new session (ms)", "low"),
             ("first_warm", "first_warm_ms", "median", "first frame, resumed session (ms)", "low")]
    return rows


def context_rows(workloads):
    rows = []
    for w in workloads:
        lab = WORKLOAD_LABELS.get(w, w)
        rows += [(w + "_kb_per_frame", w + "_kb_per_frame", "median", lab + ": kB per frame (Mbit/s ÷ frames/s)", "low"),
                 (w + "_cpu_ms_per_frame", w + "_cpu_ms_per_frame", "median",
                  lab + ": server CPU ms per frame (CPU ÷ frames/s)", "low"),
                 (w + "_xcpu", w + "_xcpu", "median", lab + ": of the server CPU, X server", "low"),
                 (w + "_client_cpu", w + "_client_cpu", "median", lab + ": xfreerdp CPU %", "low"),
                 (w + "_measure_cpu", w + "_measure_cpu", "median", lab + ": measuring CPU %", "low")]
    return rows


def percentile(values, p):
    s = sorted(values)
    if not s:
        return math.nan
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stat(values, how):
    if not values:
        return math.nan
    return statistics.median(values) if how == "median" else percentile(values, 95)


def fmt(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def read_samples(path):
    data = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise SystemExit("%s:%d: expected column<TAB>metric<TAB>value" % (path, n))
            try:
                v = float(parts[2])
            except ValueError:
                raise SystemExit("%s:%d: not a number: %r" % (path, n, parts[2]))
            data.setdefault(parts[0], {}).setdefault(parts[1], []).append(v)
    return data


def read_meta(path):
    meta = []
    with open(path) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta.append((k, v))
    return meta


def better_of(values, better):
    """(column, value) of the best finite value, or (None, nan)."""
    vals = [(c, v) for c, v in values if not math.isnan(v)]
    if not vals:
        return None, math.nan
    return (max if better == "high" else min)(vals, key=lambda cv: cv[1])


def good_enough(v, ref, better):
    if math.isnan(v) or math.isnan(ref):
        return None
    return v >= ref if better == "high" else v <= ref


def mark(ok):
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def ratio(a, b):
    if math.isnan(a) or math.isnan(b) or b == 0:
        return "n/a"
    return "%.2f" % (a / b)


def summarise(data, workloads):
    """{row key: {column: (value, n)}} for the table and context rows."""
    out = {}
    for key, metric, how, _, _ in rows_for(workloads) + context_rows(workloads):
        out[key] = {}
        for col, _ in COLUMNS:
            vals = data.get(col, {}).get(metric, [])
            out[key][col] = (stat(vals, how), len(vals))
    return out


def markdown(data, meta, workloads):
    present = [(c, lab) for c, lab in COLUMNS if c in data]
    summ = summarise(data, workloads)
    label = dict(COLUMNS)
    md = []
    for k, v in meta:
        md.append("- %s: %s" % (k, v))
    md.append("")
    md.append("| metric | " + " | ".join(lab for _, lab in present) + " |")
    md.append("|---|" + "---|" * len(present))
    for key, _, _, lab, _ in rows_for(workloads):
        cells = []
        for c, _ in present:
            v, n = summ[key][c]
            cells.append("n/a" if n == 0 else "%s (%d)" % (fmt(v), n))
        md.append("| %s | %s |" % (lab, " | ".join(cells)))
    md.append("")
    md.append("Cells: median (samples); frames/s, Mbit/s and CPU have one sample per round, "
              "key-to-echo pools every key press of every round. CPU: utime+stime of the "
              "server's process tree (X server included, the terminal and the workload "
              "excluded) per second of wall time; 100 = one core.")
    md.append("")
    if SUBJECT in data:
        md.append("| metric | Rampart H.264 | target | meets it | better peer | "
                  "Rampart ÷ xrdp | Rampart ÷ shadow (better of its two) | at least as good as the better peer |")
        md.append("|---|---|---|---|---|---|---|---|")
        for key, _, _, lab, better in rows_for(workloads):
            v = summ[key][SUBJECT][0]
            tgt = TARGETS.get(key)
            peer_col, peer_v = better_of([(c, summ[key][c][0]) for c in PEERS if c in data], better)
            shadow_col, shadow_v = better_of([(c, summ[key][c][0]) for c in ("shadow", "shadow-rfx")
                                              if c in data], better)
            xrdp_v = summ[key]["xrdp"][0] if "xrdp" in data else math.nan
            md.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                lab, fmt(v),
                "n/a" if tgt is None else ("≥ " if better == "high" else "≤ ") + fmt(float(tgt)),
                "n/a" if tgt is None else mark(good_enough(v, float(tgt), better)),
                "n/a" if peer_col is None else "%s (%s)" % (fmt(peer_v), label[peer_col]),
                ratio(v, xrdp_v), ratio(v, shadow_v) + ("" if shadow_col is None else " (%s)" % label[shadow_col]),
                mark(good_enough(v, peer_v, better))))
        md.append("")
        md.append("Ratios are Rampart ÷ peer: for frames/s above 1 is better, for the "
                  "other rows below 1 is better.")
        md.append("")
    md.append("Context (medians):")
    md.append("")
    md.append("| | " + " | ".join(lab for _, lab in present) + " |")
    md.append("|---|" + "---|" * len(present))
    for key, _, _, lab, _ in context_rows(workloads):
        cells = [fmt(summ[key][c][0]) if summ[key][c][1] else "n/a" for c, _ in present]
        md.append("| %s | %s |" % (lab, " | ".join(cells)))
    md.append("")
    return "\n".join(md) + "\n"


def chart(data, meta, workloads, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = [(c, lab) for c, lab in COLUMNS if c in data]
    panels = []
    for w in workloads:
        lab = WORKLOAD_LABELS.get(w, w)
        panels += [(lab + ": frames/s", [(w + "_fps", None)], TARGETS.get(w + "_fps"), False),
                   (lab + ": Mbit/s (log)", [(w + "_mbit", None)], TARGETS.get(w + "_mbit"), True),
                   (lab + ": server CPU, % of a core", [(w + "_cpu", None)], TARGETS.get(w + "_cpu"), False)]
    panels += [("key-to-echo (ms, log): median, p95 hatched", [("latency_ms", "median"), ("latency_ms", "p95")],
                TARGETS["latency_median"], True),
               ("first frame (ms): new, resumed hatched", [("first_cold_ms", None), ("first_warm_ms", None)],
                None, False)]
    ncols = 3
    nrows = math.ceil((len(panels) + 1) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.6 * nrows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    head = dict(meta)
    notes = ["client options (xfreerdp):"] + [
        "%s: %s" % (dict(COLUMNS).get(k.split(" ", 1)[1], k), v.replace("xfreerdp ", ""))
        for k, v in meta if k.startswith("options ")]
    for key in ("session", "run", "load", "rampart"):
        if key in head:
            notes.append("%s: %s" % (key, head[key]))
    axes.flat[len(panels)].text(0, 1, "\n".join(textwrap.fill(n, 70, subsequent_indent="    ")
                                                for n in notes), va="top", fontsize=7, family="monospace")
    for ax, (title, series, target, logy) in zip(axes.flat, panels):
        width = 0.8 / len(series)
        shown = [(c, lab) for c, lab in present if any(data.get(c, {}).get(m) for m, _ in series)]
        for si, (metric, how) in enumerate(series):
            for ci, (col, _) in enumerate(shown):
                vals = data.get(col, {}).get(metric, [])
                if not vals:
                    continue
                v = stat(vals, how or "median")
                x = ci + (si - (len(series) - 1) / 2) * width
                err = None
                if how is None and len(vals) > 1:
                    err = [[v - min(vals)], [max(vals) - v]]
                ax.bar(x, v, width * 0.9, color=COLOURS[col], hatch="//" if si else None,
                       edgecolor="white" if si else None, yerr=err, capsize=2, ecolor="#333333")
                ax.annotate(fmt(v), (x, v), ha="center", va="bottom", fontsize=7,
                            xytext=(0, 2), textcoords="offset points")
        if target is not None:
            ax.axhline(target, color="#444444", linestyle="--", linewidth=1)
            ax.annotate("target %s" % fmt(float(target)), (len(shown) - 0.5, target), ha="right",
                        va="bottom", fontsize=7, color="#444444")
        if logy:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(shown)))
        ax.set_xticklabels([lab.replace(" ", "\n", 1) for _, lab in shown], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Rampart, freerdp-shadow and xrdp at %s with %s — %s, %s" % (
        head.get("size", "?"), head.get("client", "xfreerdp"), head.get("date", "?"),
        head.get("machine", "?")), fontsize=10)
    fig.text(0.5, 0.005, "bars: median; whiskers: min-max over rounds; dashed: issue 8 target "
             "for Rampart (H.264)", ha="center", fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, 0.96))
    fig.savefig(path, dpi=90)


def self_test():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert better_of([("a", 3.0), ("b", 5.0)], "high") == ("b", 5.0)
    assert better_of([("a", 3.0), ("b", math.nan)], "low") == ("a", 3.0)
    assert good_enough(31.0, 30.0, "high") and not good_enough(2.5, 2.0, "low")
    assert good_enough(math.nan, 1.0, "low") is None
    data = {"rampart": {"scroll_fps": [30.0, 32.0, 35.0], "scroll_mbit": [1.0], "scroll_cpu": [40.0],
                        "latency_ms": [1.0, 2.0, 3.0, 10.0]},
            "xrdp": {"scroll_fps": [20.0], "scroll_mbit": [3.0], "scroll_cpu": [20.0],
                     "latency_ms": [6.0]}}
    md = markdown(data, [("date", "x")], ["scroll"])
    assert "| scrolling terminal: frames/s | 32.0 (3) | 20.0 (1) |" in md, md
    assert "| key-to-echo, median (ms) | 2.50 (4) | 6.00 (1) |" in md, md
    # fps 32 >= 30 target, better than xrdp's 20; CPU 40 > 10 target and worse than 20
    assert "| scrolling terminal: frames/s | 32.0 | ≥ 30.0 | yes | 20.0 (xrdp) | 1.60 |" in md, md
    assert "| scrolling terminal: server CPU, % of one core | 40.0 | ≤ 10.0 | **no** | 20.0 (xrdp) | 2.00 |" in md, md
    print("report.py self-test: ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples")
    ap.add_argument("--meta")
    ap.add_argument("--md")
    ap.add_argument("--png")
    ap.add_argument("--workloads", default="scroll,animation")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args()
    if a.self_test:
        return self_test()
    if not (a.samples and a.meta and a.md):
        ap.error("--samples, --meta and --md are required")
    data = read_samples(a.samples)
    meta = read_meta(a.meta)
    workloads = [w for w in a.workloads.split(",") if w]
    with open(a.md, "w") as f:
        f.write(markdown(data, meta, workloads))
    if a.png:
        chart(data, meta, workloads, a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
