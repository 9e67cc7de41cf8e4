#!/usr/bin/env python3
"""Host side of `make bench` (tests/bench/run).

  bench.py scatter FILE NREGIONS NDIRTY SEED
      a raw bitmap (LSB first) of NREGIONS bits with NDIRTY random bits set
  bench.py report DIR
      read DIR/raw/ (what tests/bench/guest-bench.sh wrote), print the tables
      and write DIR/results.txt, DIR/summary.json and DIR/plots/*.png

Every compared figure is a ratio of medians: the median over the rounds of
the target, divided by the median over the same rounds of its baseline, all
measured in the same guest boot. The spread column is (max - min) / median
over the rounds.
"""
import glob
import json
import os
import random
import shutil
import statistics
import subprocess
import sys


def scatter(path, nregions, ndirty, seed):
    rnd = random.Random(seed)
    bits = bytearray(nregions // 8)
    for r in rnd.sample(range(nregions), ndirty):
        bits[r >> 3] |= 1 << (r & 7)
    with open(path, "wb") as f:
        f.write(bits)


# ---- reading the guest's output ---------------------------------------------

def med(v):
    return statistics.median(v) if v else None


def spread(v):
    if not v or len(v) < 2:
        return None
    m = statistics.median(v)
    return (max(v) - min(v)) / m if m else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def pct(lat, p):
    """Percentile p (a string like '99.000000') of a clat_ns block, in us."""
    if not lat or "percentile" not in lat:
        return None
    v = lat["percentile"].get(p)
    return v / 1000.0 if v is not None else None


def job_metrics(j):
    rd, wr = j.get("read", {}), j.get("write", {})
    # Total latency (submission + completion: what the application waits
    # for; lat_percentiles=1), clat where fio did not report it.
    lat = lambda d: d["lat_ns"] if "percentile" in d.get("lat_ns", {}) else d.get("clat_ns", {})
    w = lat(wr)
    r = lat(rd)
    return {
        "iops": rd.get("iops", 0) + wr.get("iops", 0),
        "mbps": (rd.get("bw_bytes", 0) + wr.get("bw_bytes", 0)) / 1e6,
        "p50": pct(w, "50.000000"),
        "p99": pct(w, "99.000000"),
        "p999": pct(w, "99.900000"),
        "read_p99": pct(r, "99.000000") if rd.get("total_ios") else None,
        "runtime_ms": j.get("job_runtime"),
    }


def load_fio(path):
    with open(path) as f:
        text = f.read()
    # fio may print notes before the JSON object.
    return json.loads(text[text.index("{"):])


def read_fio_runs(raw):
    """runs[part][set][target][job] = list over rounds of metric dicts."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(raw, "fio", "*", "*", "*", "r*.json"))):
        part, set_, target = path.split(os.sep)[-4:-1]
        data = load_fio(path)
        jobs = {}
        for j in data["jobs"]:
            name = j["jobname"]
            if name.startswith("warm-"):
                continue
            jobs[name] = job_metrics(j)
        if target == "pair":
            # The pair bound: both legs written at once by two fio jobs;
            # what each device sustains while the other is written too, i.e.
            # the slower of the two (IOPS, MB/s) and the worse latency.
            pairs = {}
            for name, m in jobs.items():
                job, leg = name.split("@")
                pairs.setdefault(job, {})[leg] = m
            jobs = {}
            for job, legs in pairs.items():
                s, d = legs["src"], legs["dst"]
                jobs[job] = {k: (min(s[k], d[k]) if k in ("iops", "mbps")
                                 else max(s[k], d[k]) if s[k] is not None and d[k] is not None
                                 else None) for k in s}
        for job, m in jobs.items():
            runs.setdefault(part, {}).setdefault(set_, {}).setdefault(target, {}).setdefault(job, []).append(m)
    return runs


def read_records(raw):
    """recs[(part, set, target, case, key)] = list of values over rounds."""
    recs = {}
    with open(os.path.join(raw, "records.tsv")) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) != 7:
                continue
            part, set_, target, case, rnd, key, val = p
            recs.setdefault((part, set_, target, case, key), []).append(float(val))
    return recs


def read_info(path):
    info = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                info[k] = v
    return info


# ---- formatting -----------------------------------------------------------------

def fnum(v, nd=1):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "%.0f" % v
    return "%.*f" % (nd, v)


def fratio(v):
    return "-" if v is None else "%.2fx" % v


def fspread(v):
    return "-" if v is None else "%.0f%%" % (100 * v)


def table(rows, header):
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = ["  ".join(str(h).ljust(w[i]) if i == 0 else str(h).rjust(w[i]) for i, h in enumerate(header))]
    for r in rows:
        out.append("  ".join(str(c).ljust(w[i]) if i < 2 else str(c).rjust(w[i]) for i, c in enumerate(r)))
    return out


SET_TITLE = {
    "cpu": "CPU-bound legs",
    "delay": "both legs behind dm-delay",
    "slowdst": "fast source, destination behind dm-delay",
    "thin": "a new thin LV: dm-thin pool, 64 KiB blocks, takes no write-zeroes",
    "loop": "a new sparse file on tmpfs behind loop, takes write-zeroes",
}
TARGET_TITLE = {
    "linear": "dm-linear (source only)",
    "pair": "pair bound",
    "raid1": "dm-raid1 core log",
    "raid1-disk": "dm-raid1 disk log",
    "im": "dm-incmirror",
    "im-meta": "dm-incmirror + metadata",
    "src": "source leg alone",
    "dst": "destination leg alone",
}


def stat(runs, part, set_, target, job, key):
    vals = [m[key] for m in runs.get(part, {}).get(set_, {}).get(target, {}).get(job, []) if m[key] is not None]
    return vals


class Report:
    def __init__(self, d):
        self.dir = d
        self.raw = os.path.join(d, "raw")
        self.info = read_info(os.path.join(self.raw, "info.txt"))
        self.runs = read_fio_runs(self.raw)
        self.recs = read_records(self.raw)
        self.lines = []
        self.summary = {"info": self.info, "writes": {}, "slowdst": {}, "copy": {}, "load": {}, "memory": {},
                        "sparse": {}, "nbd": {}}
        self.plots = os.path.join(d, "plots")
        os.makedirs(self.plots, exist_ok=True)

    def p(self, s=""):
        self.lines.append(s)

    def m(self, part, set_, target, job, key):
        return med(stat(self.runs, part, set_, target, job, key))

    def rec(self, part, set_, target, key, case="-"):
        return self.recs.get((part, set_, target, case, key), [])

    # -- parts 1 and 2 --
    def writes(self, part, set_):
        r = self.runs.get(part, {}).get(set_)
        if not r:
            return
        jobs = [j for j in self.info.get("jobs" if part == "writes" else "slowdst_jobs", "").split()
                if any(j in t for t in r.values())]
        order = ["linear", "pair", "raid1", "raid1-disk", "im", "im-meta"] if part == "writes" \
            else ["src", "dst", "raid1", "im", "im-meta"]
        targets = [t for t in order if t in r]
        nr = max(len(v) for t in r.values() for v in t.values())
        self.p("== Part %s: in-sync writes, set %s (%s), medians of %d rounds =="
               % ("1" if part == "writes" else "2", set_, SET_TITLE[set_], nr))
        rows = []
        summ = {}
        for j in jobs:
            for t in targets:
                if j not in r.get(t, {}):
                    continue
                vals = {k: self.m(part, set_, t, j, k) for k in ("iops", "mbps", "p50", "p99", "p999")}
                summ.setdefault(j, {})[t] = dict(vals, iops_rounds=stat(self.runs, part, set_, t, j, "iops"),
                                                  p99_rounds=stat(self.runs, part, set_, t, j, "p99"))
                rows.append([j, t, fnum(vals["iops"]), fnum(vals["mbps"]), fnum(vals["p50"]),
                             fnum(vals["p99"]), fnum(vals["p999"]),
                             fspread(spread(stat(self.runs, part, set_, t, j, "iops")))])
        for l in table(rows, ["job", "target", "IOPS", "MB/s", "p50 us", "p99 us", "p99.9 us", "spread"]):
            self.p(l)
        self.p()
        if part == "writes":
            self.p("ratios (IOPS; p99 latency: lower is better)")
            rows = []
            for j in jobs:
                s = summ.get(j, {})
                g = lambda t, k: s.get(t, {}).get(k)
                rat = {
                    "im/linear": ratio(g("im", "iops"), g("linear", "iops")),
                    "im/raid1": ratio(g("im", "iops"), g("raid1", "iops")),
                    "im/pair": ratio(g("im", "iops"), g("pair", "iops")),
                    "meta/im": ratio(g("im-meta", "iops"), g("im", "iops")),
                    "meta/raid1-disk": ratio(g("im-meta", "iops"), g("raid1-disk", "iops")),
                    "p99 im/raid1": ratio(g("im", "p99"), g("raid1", "p99")),
                    "p99 meta/raid1-disk": ratio(g("im-meta", "p99"), g("raid1-disk", "p99")),
                }
                summ.setdefault(j, {})["ratios"] = rat
                rows.append([j, ""] + [fratio(v) for v in rat.values()])
            for l in table(rows, ["job", ""] + list(rat.keys())):
                self.p(l)
            self.summary["writes"][set_] = summ
        else:
            self.p("latency against the slower leg alone: max(src, dst) per percentile")
            rows = []
            for j in jobs:
                s = summ.get(j, {})
                row = [j, ""]
                for k in ("p50", "p99"):
                    mx = None
                    if s.get("src", {}).get(k) is not None and s.get("dst", {}).get(k) is not None:
                        mx = max(s["src"][k], s["dst"][k])
                    s.setdefault("max-leg", {})[k] = mx
                    row.append(fnum(mx))
                    for t in ("im", "im-meta", "raid1"):
                        rt = ratio(s.get(t, {}).get(k), mx)
                        s.setdefault("ratios", {})["%s %s/max" % (k, t)] = rt
                        row.append(fratio(rt))
                rows.append(row)
            hdr = ["job", ""]
            for k in ("p50", "p99"):
                hdr += ["%s max-leg us" % k, "%s im" % k, "%s im-meta" % k, "%s raid1" % k]
            for l in table(rows, hdr):
                self.p(l)
            self.summary["slowdst"] = summ
        self.p()
        self.plot_writes(part, set_, jobs, targets, summ)

    def plot_writes(self, part, set_, jobs, targets, summ, title=None):
        base = os.path.join(self.plots, "%s-%s" % (part, set_))
        with open(base + ".dat", "w") as f:
            f.write("# target job iops mbps p50_us p99_us p99.9_us (medians)\n")
            for ji, j in enumerate(jobs):
                f.write("# job %s\n" % j)
                for t in targets:
                    v = summ.get(j, {}).get(t)
                    if not v:
                        continue
                    f.write("%s %s %s %s %s %s %s\n" % (t, j, *(("%.3f" % v[k]) if v[k] is not None else "NaN"
                                                               for k in ("iops", "mbps", "p50", "p99", "p999"))))
                f.write("\n\n")
        n = len(jobs)
        if title is None:
            title = "%s, set %s (%s)" % ("in-sync writes" if part == "writes" else "slow destination",
                                         set_, SET_TITLE[set_])
        gp = [
            "set terminal %s size %d,520 font 'sans,9'" % (TERM, 330 * n + 40),
            "set output '%s-iops.png'" % os.path.basename(base),
            "set multiplot layout 1,%d title 'IOPS (median), %s'" % (n, title),
            "set style fill solid 0.8 border -1", "set boxwidth 0.7",
            "set xtics rotate by -40 nomirror", "set grid ytics", "set yrange [0:*]", "unset key",
        ]
        for ji, j in enumerate(jobs):
            gp += ["set title '%s'" % j,
                   "plot '%s.dat' index %d using 0:3:xtic(1) with boxes lc rgb '#4472c4', "
                   "'' index %d using 0:3:(sprintf('%%.0f',$3)) with labels offset 0,0.7 font 'sans,7'"
                   % (os.path.basename(base), ji, ji)]
        gp += ["unset multiplot",
               "set output '%s-latency.png'" % os.path.basename(base),
               "set multiplot layout 1,%d title 'write latency, submission to completion: p50 / p99 / p99.9 (us, log scale), %s'"
               % (n, title),
               "set logscale y", "set yrange [*:*]", "set key top left font 'sans,8'",
               "set style data histograms", "set style histogram clustered gap 1"]
        for ji, j in enumerate(jobs):
            gp += ["set title '%s'" % j,
                   "plot '%s.dat' index %d using 5:xtic(1) title 'p50' lc rgb '#70ad47', "
                   "'' index %d using 6 title 'p99' lc rgb '#ed7d31', '' index %d using 7 title 'p99.9' lc rgb '#c00000'"
                   % (os.path.basename(base), ji, ji, ji)]
            gp.append("unset key")
        gp.append("unset multiplot")
        self.gnuplot(base + ".gp", gp)

    # -- part 3 --
    def copies(self):
        recs = self.recs
        if not any(k[0] == "copy" for k in recs):
            return
        mib = float(self.info.get("mib", 0))
        regions = float(self.info.get("regions", 0))
        call = med(self.rec("info", "-", "dmsetup", "call_ms"))
        self.p("== Part 3: copies of the whole %.0f MiB device (ms, medians; a dmsetup call costs %s ms here) =="
               % (mib, fnum(call, 0)))
        summ = {}
        for set_ in self.info.get("copy_sets", "").split():
            rows = []
            s = {}
            for c in ("dd", "fio-copy", "raid1-resync", "im-full", "im-full-meta"):
                v = self.rec("copy", set_, c, "ms")
                if not v:
                    continue
                s[c] = {"ms": med(v), "ms_rounds": v}
                rows.append([c, set_, fnum(med(v), 0), fnum(mib * 1000 / med(v)), fspread(spread(v))])
            self.p("set %s (%s):" % (set_, SET_TITLE[set_]))
            for l in table(rows, ["copy", "set", "ms", "MiB/s", "spread"]):
                self.p(l)
            g = lambda c: s.get(c, {}).get("ms")
            best = min([x for x in (g("dd"), g("fio-copy")) if x is not None], default=None)
            rat = {
                "im-full/dd": ratio(g("im-full"), g("dd")),
                "im-full/fio-copy": ratio(g("im-full"), g("fio-copy")),
                "im-full/best-plain": ratio(g("im-full"), best),
                "im-full/raid1-resync": ratio(g("im-full"), g("raid1-resync")),
                "im-full-meta/im-full": ratio(g("im-full-meta"), g("im-full")),
            }
            s["ratios (time: lower is better)"] = rat
            self.p("time ratios (lower is better): " + ", ".join("%s %s" % (k, fratio(v)) for k, v in rat.items()))
            self.p()
            summ[set_] = s
        # Incremental.
        full = summ.get("cpu", {}).get("im-full", {}).get("ms")
        rows = []
        inc = {}
        for c in ("incr-1", "incr-10", "incr-100", "incr-500", "incr-runs4-5"):
            v = self.rec("copy", "cpu", c, "ms")
            if not v:
                continue
            n = med(self.rec("copy", "cpu", c, "dirty_regions"))
            frac = n / regions if regions else None
            inc[c] = {"ms": med(v), "ms_rounds": v, "dirty_regions": n, "fraction": frac,
                      "ratio_to_full": ratio(med(v), full)}
            rows.append([c, "%.1f%%" % (100 * frac) if frac is not None else "-", "%d" % n,
                         fnum(med(v), 0), fratio(ratio(med(v), full)), fspread(spread(v))])
        if rows:
            self.p("incremental copies (set cpu; time from `start` to synced; ratio to im-full):")
            for l in table(rows, ["copy", "dirty", "regions", "ms", "x im-full", "spread"]):
                self.p(l)
            self.p("(incr-1 = 0.1%, incr-10 = 1%, incr-100 = 10%, incr-500 = 50% random regions;"
                   " incr-runs4-5 = 4 runs of 5% each)")
            self.p()
            summ["incremental"] = inc
        # Foreground writer.
        fg = {}
        for c in ("copy-idle", "copy-writer", "copy-writer-limit"):
            v = self.rec("fg", "cpu", c, "ms")
            if v:
                fg[c] = {"ms": med(v), "ms_rounds": v}
        for c in ("writer-idle", "copy-writer", "copy-writer-limit"):
            for k in ("iops", "p50", "p99", "p999"):
                vals = stat(self.runs, "fg", "cpu", c, "w4k-qd1", k)
                if vals:
                    fg.setdefault(c, {})["writer_" + k] = med(vals)
                    fg[c]["writer_%s_rounds" % k] = vals
        if fg:
            rate = med(self.rec("fg", "cpu", "copy-writer-limit", "max_copy_rate_kibps"))
            idle_ms = fg.get("copy-idle", {}).get("ms")
            idle_p99 = fg.get("writer-idle", {}).get("writer_p99")
            self.p("foreground 4k randwrite QD1 writer during a full copy (set cpu; copy-writer-limit:"
                   " max_copy_rate %s KiB/s = half the idle copy speed of round 1):" % fnum(rate, 0))
            rows = []
            for c in ("copy-idle", "writer-idle", "copy-writer", "copy-writer-limit"):
                if c not in fg:
                    continue
                x = fg[c]
                sp = ratio(idle_ms, x.get("ms"))
                p99r = ratio(x.get("writer_p99"), idle_p99)
                x["copy_speed_vs_idle"] = sp if "ms" in x else None
                x["writer_p99_vs_idle"] = p99r if c != "copy-idle" else None
                rows.append([c, fnum(x.get("ms"), 0), fnum(mib * 1000 / x["ms"]) if x.get("ms") else "-",
                             fratio(sp) if x.get("ms") else "-",
                             fnum(x.get("writer_iops")), fnum(x.get("writer_p50")), fnum(x.get("writer_p99")),
                             fratio(p99r) if c not in ("copy-idle",) else "-"])
            for l in table(rows, ["run", "copy ms", "MiB/s", "speed x idle", "writer IOPS", "p50 us",
                                  "p99 us", "p99 x idle"]):
                self.p(l)
            self.p()
            summ["foreground"] = fg
            summ["foreground_max_copy_rate_kibps"] = rate
        self.summary["copy"] = summ
        self.plot_copies(summ)

    def progress(self, name):
        """[(seconds since t0, percent in sync)] of a sampled progress run."""
        txt = os.path.join(self.raw, "progress", name + ".txt")
        tf = os.path.join(self.raw, "progress", name + ".t")
        if not (os.path.exists(txt) and os.path.exists(tf)):
            return None
        t0, t1 = (float(x) for x in open(tf).read().split())
        pts = []
        for line in open(txt):
            tok = line.split()
            if len(tok) < 5:
                continue
            frac = None
            for x in tok[4:]:
                if "/" in x:
                    a, b = x.split("/")
                    if a.isdigit() and b.isdigit() and int(b):
                        frac = 100.0 * int(a) / int(b)
                    break
            t = (float(tok[0]) - t0) / 1000.0
            if frac is not None and 0 <= t < (t1 - t0) / 1000.0:
                pts.append((t, frac))
        # Every run plotted starts with nothing in sync (a full table, or
        # an incremental one with every region dirty) and ends at the sync
        # event.
        return [(0.0, 0.0)] + pts + [((t1 - t0) / 1000.0, 100.0)]

    def plot_copies(self, summ):
        series = []
        for set_ in self.info.get("copy_sets", "").split():
            for c in ("raid1-resync", "im-full", "im-full-meta"):
                pts = self.progress("%s-%s" % (set_, c))
                if pts:
                    series.append((set_, c, pts))
        for c in ("copy-writer", "copy-writer-limit"):
            pts = self.progress("cpu-fg-%s" % c)
            if pts:
                series.append(("cpu", c, pts))
        if series:
            base = os.path.join(self.plots, "copy-progress")
            with open(base + ".dat", "w") as f:
                for set_, c, pts in series:
                    f.write("# %s %s: seconds, %% of regions in sync\n" % (set_, c))
                    for t, v in pts:
                        f.write("%.3f %.3f\n" % (t, v))
                    f.write("\n\n")
            sets = sorted(set(s for s, _, _ in series), key=lambda s: ["cpu", "delay", "slowdst"].index(s))
            gp = ["set terminal %s size %d,480 font 'sans,9'" % (TERM, 560 * len(sets)),
                  "set output 'copy-progress.png'",
                  "set multiplot layout 1,%d title 'copy progress: regions in sync vs time "
                  "(sampled from dmsetup status every %s ms; dd and fio: end time only)'"
                  % (len(sets), self.info.get("sample_ms", "100")),
                  "set xlabel 'seconds'", "set ylabel '% in sync'", "set yrange [0:105]", "set grid",
                  "set key bottom right font 'sans,8'"]
            for set_ in sets:
                plots = []
                for i, (s, c, _) in enumerate(series):
                    if s == set_:
                        plots.append("'copy-progress.dat' index %d using 1:2 with lines lw 2 title '%s'" % (i, c))
                for c in ("dd", "fio-copy"):
                    ms = summ.get(set_, {}).get(c, {}).get("ms")
                    if ms:
                        plots.append("'+' using ($1*%f):($1*100) every ::0::1 with lines dt 2 title '%s (median)'"
                                     % (ms / 1000.0, c))
                gp += ["set title 'set %s (%s)'" % (set_, SET_TITLE[set_]),
                       "set xrange [0:*]", "set samples 2", "set trange [0:1]",
                       "plot " + ", ".join(plots)]
            gp.append("unset multiplot")
            self.gnuplot(base + ".gp", gp)
        inc = summ.get("incremental")
        if inc:
            base = os.path.join(self.plots, "incremental")
            with open(base + ".dat", "w") as f:
                f.write("# case dirty_percent time_ratio_to_full\n")
                for c, v in inc.items():
                    if c.startswith("incr-runs"):
                        continue
                    if v["ratio_to_full"] is not None:
                        f.write("%s %.4f %.4f\n" % (c, 100 * v["fraction"], v["ratio_to_full"]))
            gp = ["set terminal %s size 640,480 font 'sans,9'" % TERM,
                  "set output 'incremental.png'",
                  "set title 'incremental copy: time / full copy time vs dirty fraction (set cpu)'",
                  "set logscale xy", "set xlabel '% of regions dirty (random)'", "set ylabel 'x full copy time'",
                  "set grid", "set key top left", "set xrange [0.05:100]", "set yrange [0.001:2]",
                  "plot 'incremental.dat' using 2:3 with linespoints lw 2 pt 7 title 'dm-incmirror', "
                  "x/100 with lines dt 2 title 'proportional (k% of the time)'"]
            self.gnuplot(base + ".gp", gp)

    # -- part 4 --
    def load_mem(self):
        rows = []
        for k in ("im", "im-meta"):
            v = self.recs.get(("load", "-", k, "1Mi-of-4Mi", "ms"))
            if v:
                self.summary["load"][k] = {"ms": med(v), "ms_rounds": v}
                rows.append([k, "1 Mi of 4 Mi", fnum(med(v), 0), fspread(spread(v))])
        if rows:
            self.p("== Part 4a: loading 1 Mi scattered dirty regions (random, of 4 Mi: a 256 GiB mirror at 64 KiB"
                   " regions) with incmirror-bitmap load (no baseline) ==")
            for l in table(rows, ["target", "map", "ms", "spread"]):
                self.p(l)
            self.p()
        rows = []
        mem = {}
        for k in ("im", "im-meta", "raid1", "raid1-disk"):
            v = self.recs.get(("mem", "-", k, "16T", "kib"))
            if v:
                mem[k] = {"mib": med(v) / 1024.0, "kib_rounds": v}
        if mem:
            g = lambda k: mem.get(k, {}).get("mib")
            mem["ratios"] = {"im/raid1": ratio(g("im"), g("raid1")),
                             "im-meta/raid1-disk": ratio(g("im-meta"), g("raid1-disk"))}
            for k in ("im", "im-meta", "raid1", "raid1-disk"):
                if k in mem:
                    rows.append([k, TARGET_TITLE[k], "%.1f" % mem[k]["mib"]])
            self.p("== Part 4b: kernel memory (Slab + VmallocUsed increase) of a 16 TiB target at 64 KiB regions"
                   " over dm-zero legs (MiB, medians) ==")
            for l in table(rows, ["target", "", "MiB"]):
                self.p(l)
            self.p("ratios: " + ", ".join("%s %s" % (k, fratio(v)) for k, v in mem["ratios"].items()))
            self.p()
            self.summary["memory"] = mem

    # -- part 5 --
    SPARSE_ORDER = [("thin", "dd"), ("thin", "dd-sparse"), ("thin", "raid1-resync"), ("thin", "im-full"),
                    ("thin", "im-full-dz"), ("loop", "raid1-resync"), ("loop", "im-full")]

    def sparse(self):
        if not any(k[0] == "sparse" for k in self.recs):
            return
        mib = float(self.info.get("mib", 0))
        regions = int(float(self.info.get("regions", 0)))
        data = med(self.rec("sparse", "-", "source", "data_regions"))
        data = int(data) if data is not None else None
        cases = [c for c in self.SPARSE_ORDER if self.rec("sparse", c[0], c[1], "ms")]
        known = set(self.SPARSE_ORDER)
        cases += sorted(set((k[1], k[2]) for k in self.recs if k[0] == "sparse" and k[4] == "ms") - known)
        nr = max(len(self.rec("sparse", d, c, "ms")) for d, c in cases)
        self.p("== Part 5: sparse copy of a mostly-zero %.0f MiB source onto a new destination"
               " (ms, medians of %d rounds; a dmsetup call costs %s ms here) =="
               % (mib, nr, fnum(med(self.rec("info", "-", "dmsetup", "call_ms")), 0)))
        self.p("source: %s of %d regions of 64 KiB hold random data (%s, at random across the device),"
               " the rest zeroes" % (data if data is not None else "?", regions,
                                     "%.1f%%" % (100.0 * data / regions) if data is not None and regions else "?"))
        for d in ("thin", "loop"):
            if any(x == d for x, _ in cases):
                self.p("  %-4s  %s" % (d, SET_TITLE[d]))
        self.p("allocated: 64 KiB blocks the destination holds after the copy (thin: the pool's used data blocks;"
               " loop: the file's KiB / 64); least possible = the data regions (%s), every block = %d"
               % (data if data is not None else "?", regions))
        summ = {"data_regions": data, "regions": regions, "mib": mib}
        for d, c in cases:
            v = self.rec("sparse", d, c, "ms")
            al = self.rec("sparse", d, c, "alloc_blocks")
            z = self.rec("sparse", d, c, "zeroed_regions")
            e = {"ms": med(v), "ms_rounds": v, "alloc_blocks": med(al), "alloc_blocks_rounds": al,
                 "alloc_vs_min": ratio(med(al), data), "zeroed_regions": med(z) if z else None}
            mapped = self.rec("sparse", d, c, "thin_mapped_sectors")
            if mapped:
                e["thin_mapped_blocks"] = med(mapped) / 128.0
                e["thin_mapped_blocks_rounds"] = [x / 128.0 for x in mapped]
            summ.setdefault(d, {})[c] = e
        rows = []
        warn = []
        for d, c in cases:
            e = summ[d][c]
            base = summ[d].get("raid1-resync", {}).get("ms")
            e["time_vs_raid1"] = ratio(e["ms"], base)
            al = e["alloc_blocks_rounds"]
            if al and min(al) != max(al):
                alloc = "%s-%s" % (fnum(min(al), 0), fnum(max(al), 0))
                warn.append("%s onto %s: allocated %s over the rounds (not the same every time)"
                            % (c, d, " ".join(fnum(x, 0) for x in al)))
            else:
                alloc = fnum(e["alloc_blocks"], 0) if e["alloc_blocks"] is not None else "-"
            if "thin_mapped_blocks_rounds" in e and e["thin_mapped_blocks_rounds"] != al:
                warn.append("%s onto %s: thin LV maps %s blocks, the pool counts %s" %
                            (c, d, e["thin_mapped_blocks_rounds"], al))
            rows.append([c, d, fnum(e["ms"], 0), fnum(mib * 1000 / e["ms"]) if e["ms"] else "-",
                         fratio(e["time_vs_raid1"]), fspread(spread(e["ms_rounds"])), alloc,
                         fratio(e["alloc_vs_min"]),
                         fnum(e["zeroed_regions"], 0) if e["zeroed_regions"] is not None else "-"])
        for l in table(rows, ["copy", "dest", "ms", "MiB/s", "x raid1", "spread", "allocated", "x least",
                              "zeroed"]):
            self.p(l)
        g = lambda d, c: summ.get(d, {}).get(c, {}).get("ms")
        rat = {
            "im-full-dz/raid1-resync (thin)": ratio(g("thin", "im-full-dz"), g("thin", "raid1-resync")),
            "im-full/raid1-resync (thin)": ratio(g("thin", "im-full"), g("thin", "raid1-resync")),
            "im-full-dz/im-full (thin)": ratio(g("thin", "im-full-dz"), g("thin", "im-full")),
            "im-full-dz/dd-sparse (thin)": ratio(g("thin", "im-full-dz"), g("thin", "dd-sparse")),
            "im-full/raid1-resync (loop)": ratio(g("loop", "im-full"), g("loop", "raid1-resync")),
        }
        summ["ratios (time: lower is better)"] = rat
        self.p("x raid1: time / raid1-resync onto the same kind of destination; x least: allocated / data regions;"
               " zeroed: status zeroed= (regions sent as write-zeroes or, with dest_zeroed, not written)")
        self.p("time ratios (lower is better): " + ", ".join("%s %s" % (k, fratio(v)) for k, v in rat.items()))
        for w in warn:
            self.p("WARNING: " + w)
        self.p("(dd: bs=1M; dd-sparse: bs=64K conv=sparse, seeks over zero blocks; im-full-dz: feature dest_zeroed;"
               " every copy compared equal to the source after it was timed)")
        self.p()
        self.summary["sparse"] = summ
        self.plot_sparse(summ, cases, data, regions)

    def plot_sparse(self, summ, cases, data, regions):
        base = os.path.join(self.plots, "sparse")
        with open(base + ".dat", "w") as f:
            f.write("# copy/dest ms(median) alloc_blocks(median)\n")
            for d, c in cases:
                e = summ[d][c]
                f.write("%s/%s %s %s\n" % (c, d, "%.1f" % e["ms"] if e["ms"] is not None else "NaN",
                                           "%.2f" % e["alloc_blocks"] if e["alloc_blocks"] is not None else "NaN"))
        gp = ["set terminal %s size 1100,500 font 'sans,9'" % TERM,
              "set output 'sparse.png'",
              "set multiplot layout 1,2 title 'sparse copy: %s of %d regions hold data, onto a new thin LV or sparse"
              " loop file (medians)'" % (data, regions),
              "set style fill solid 0.8 border -1", "set boxwidth 0.7",
              "set xtics rotate by -40 nomirror", "set grid ytics", "set yrange [0:*]",
              "set title 'copy time (ms)'", "unset key",
              "plot 'sparse.dat' using 0:2:xtic(1) with boxes lc rgb '#4472c4', "
              "'' using 0:2:(sprintf('%.0f',$2)) with labels offset 0,0.7 font 'sans,7'",
              "set title 'destination blocks allocated (64 KiB)'", "set key top left font 'sans,8'",
              "set yrange [0:%d]" % int(regions * 1.15 + 1),
              "plot 'sparse.dat' using 0:3:xtic(1) with boxes lc rgb '#ed7d31' notitle, "
              "'' using 0:3:(sprintf('%%.0f',$3)) with labels offset 0,0.7 font 'sans,7' notitle, "
              "%s with lines dt 2 lw 2 lc rgb '#70ad47' title 'least: data regions (%s)', "
              "%d with lines dt 3 lc rgb '#c00000' title 'every block (%d)'"
              % (data if data is not None else "NaN", data, regions, regions),
              "unset multiplot"]
        self.gnuplot(base + ".gp", gp)

    # -- part 6 --
    NBD_ORDER = ["nbd", "im", "im-copy", "raid1"]
    NBD_LETTER = {"nbd": "a", "im": "b", "im-copy": "c", "raid1": "d"}
    NBD_TITLE = {
        "nbd": "(a) the NBD device alone: the slower leg, the baseline",
        "im": "(b) dm-incmirror over source + NBD, in sync",
        "im-copy": "(c) dm-incmirror while a full copy runs (unlimited rate, default copy_depth)",
        "raid1": "(d) dm-raid1 (mirror, core log, nosync) over the same pair",
    }

    def nbd_set_title(self, set_):
        i = self.info
        if set_ == "nbd-jitter":
            return "netem delay %s %s (jitter) on lo" % (i.get("nbd_delay", "?"), i.get("nbd_jitter", "?"))
        return "netem delay %s on lo" % i.get("nbd_delay", "?")

    def nbd(self):
        r = self.runs.get("nbd", {})
        has_copies = any(k[0] == "nbd" and k[1] == "nbd" and k[3] == "-" for k in self.recs)
        if not r and not has_copies:
            return
        i = self.info
        mib = float(i.get("nbd_mib", 0))
        nr = max([len(v) for s in r.values() for t in s.values() for v in t.values()] or [0])
        self.p("== Part 6: remote destination over NBD, %.0f MiB (qemu-nbd serving a tmpfs file over TCP on lo,"
               " netem on lo delays both directions: a round trip is twice the delay), medians of %d rounds =="
               % (mib, nr))
        for t in self.NBD_ORDER:
            self.p("  %-8s %s" % (t, self.NBD_TITLE[t]))
        self.p("source: loop device on tmpfs; NBD client: one connection, scheduler %s, max_sectors_kb %s; %s"
               % (i.get("nbd_scheduler", "?").strip(), i.get("nbd_max_sectors_kb", "?"), i.get("qemu_nbd", "")))
        self.p()
        summ = {"mib": mib, "delay": i.get("nbd_delay"), "jitter": i.get("nbd_jitter")}
        for set_ in i.get("nbd_sets", "").split():
            rs = r.get(set_)
            if not rs:
                continue
            jobs = [j for j in i.get("nbd_jobs", "").split() if any(j in t for t in rs.values())]
            targets = [t for t in self.NBD_ORDER if t in rs]
            self.p("set %s (%s): write latency, submission to completion" % (set_, self.nbd_set_title(set_)))
            rows = []
            ss = {}
            for j in jobs:
                for t in targets:
                    if j not in rs.get(t, {}):
                        continue
                    vals = {k: self.m("nbd", set_, t, j, k) for k in ("iops", "mbps", "p50", "p99", "p999")}
                    ss.setdefault(j, {})[t] = dict(vals, iops_rounds=stat(self.runs, "nbd", set_, t, j, "iops"),
                                                   p50_rounds=stat(self.runs, "nbd", set_, t, j, "p50"),
                                                   p99_rounds=stat(self.runs, "nbd", set_, t, j, "p99"))
                    rows.append([j, "%s %s" % (self.NBD_LETTER[t], t), fnum(vals["iops"]), fnum(vals["mbps"]),
                                 fnum(vals["p50"] / 1000.0 if vals["p50"] is not None else None, 2),
                                 fnum(vals["p99"] / 1000.0 if vals["p99"] is not None else None, 2),
                                 fnum(vals["p999"] / 1000.0 if vals["p999"] is not None else None, 2),
                                 fspread(spread(stat(self.runs, "nbd", set_, t, j, "iops"))),
                                 fspread(spread(stat(self.runs, "nbd", set_, t, j, "p99")))])
            for l in table(rows, ["job", "target", "IOPS", "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "spread",
                                  "p99 spread"]):
                self.p(l)
            self.p("ratios to (a), the NBD device alone (latency: lower is better; goal b/a <= 1.10)")
            rows = []
            for j in jobs:
                s = ss.get(j, {})
                g = lambda t, k: s.get(t, {}).get(k)
                rat = {}
                row = [j, ""]
                for t in ("im", "im-copy", "raid1"):
                    if t not in targets:
                        continue
                    L = self.NBD_LETTER[t]
                    for k in ("p50", "p99"):
                        rat["%s %s/a" % (k, L)] = ratio(g(t, k), g("nbd", k))
                    rat["IOPS %s/a" % L] = ratio(g(t, "iops"), g("nbd", "iops"))
                goal = [rat.get("p50 b/a"), rat.get("p99 b/a")]
                met = "-" if None in goal else ("yes" if max(goal) <= 1.10 else "no")
                s["ratios"] = rat
                s["goal_b_over_a_le_1.1"] = met
                rows.append(row + [fratio(v) for v in rat.values()] + [met])
            if rows:
                for l in table(rows, ["job", ""] + list(rat.keys()) + ["b/a<=1.1"]):
                    self.p(l)
            self.p()
            # The copy under the writes of (c).
            cw = {}
            rows = []
            for j in jobs:
                ms = self.rec("nbd", set_, "im-copy", "ms", case=j)
                cs = self.rec("nbd", set_, "im-copy", "copied_sectors", case=j)
                if not ms or not cs:
                    continue
                speeds = [c * 512 / 1048576.0 / (m / 1000.0) for c, m in zip(cs, ms) if m]
                rs_ = self.rec("nbd", set_, "im-copy", "restarts", case=j)
                ce = self.rec("nbd", set_, "im-copy", "copying_at_end", case=j)
                st = self.rec("nbd", set_, "im-copy", "start_ms", case=j)
                cw[j] = {"copy_mibps": med(speeds), "copy_mibps_rounds": speeds, "restarts_rounds": rs_,
                         "copying_at_end_rounds": ce, "start_ms_rounds": st}
                rows.append([j, fnum(med(speeds)), fspread(spread(speeds)), "%d" % sum(rs_),
                             "%d/%d" % (sum(ce), len(ce)), fnum(med(st), 0)])
            if rows:
                self.p("the copy during (c): MiB/s copied while the job ran (from `start` to the end of fio),"
                       " passes restarted (every region set dirty again at sync), rounds still copying at the end,"
                       " ms from the first write to `start` (within the %s s ramp_time fio does not measure)"
                       % i.get("nbd_ramp", "?"))
                for l in table(rows, ["job", "copy MiB/s", "spread", "restarts", "copying at end", "start ms"]):
                    self.p(l)
                self.p()
                ss["copy_during_writes"] = cw
            summ[set_] = ss
            self.plot_writes("nbd", set_, jobs, targets, ss,
                             title="NBD destination, set %s (%s)" % (set_, self.nbd_set_title(set_)))
        # Copies onto the NBD device.
        cp = {}
        rows = []
        for c in i.get("nbd_copies", "").split():
            v = self.rec("nbd", "nbd", c, "ms")
            if v:
                cp[c] = {"ms": med(v), "ms_rounds": v}
        g = lambda c: cp.get(c, {}).get("ms")
        for c, e in cp.items():
            e["x_dd"] = ratio(e["ms"], g("dd"))
            e["x_raid1_resync"] = ratio(e["ms"], g("raid1-resync"))
            rows.append([c, fnum(e["ms"], 0), fnum(mib * 1000 / e["ms"]) if e["ms"] else "-", fratio(e["x_dd"]),
                         fratio(e["x_raid1_resync"]), fspread(spread(e["ms_rounds"]))])
        if rows:
            self.p("copies of the whole %.0f MiB source onto the NBD device, no writer (set nbd: %s; ms, medians;"
                   " a dmsetup call costs %s ms here)"
                   % (mib, self.nbd_set_title("nbd"), fnum(med(self.rec("info", "-", "dmsetup", "call_ms")), 0)))
            for l in table(rows, ["copy", "ms", "MiB/s", "x dd", "x raid1-resync", "spread"]):
                self.p(l)
            rat = {"im-full/dd": ratio(g("im-full"), g("dd")),
                   "im-full/raid1-resync": ratio(g("im-full"), g("raid1-resync")),
                   "raid1-resync/dd": ratio(g("raid1-resync"), g("dd"))}
            cp["ratios (time: lower is better)"] = rat
            self.p("time ratios (lower is better): " + ", ".join("%s %s" % (k, fratio(v)) for k, v in rat.items()))
            self.p("(dd: coreutils dd bs=1M iflag=direct oflag=direct, one 1 MiB request at a time; im-full:"
                   " `incmirror SRC NBD 128`, create to sync event; raid1-resync: `mirror core 1 128 2 SRC 0 NBD 0`,"
                   " one 64 KiB region at a time)")
            for set_ in i.get("nbd_sets", "").split():
                for j, e in summ.get(set_, {}).get("copy_during_writes", {}).items():
                    idle = g("im-full")
                    if idle and e["copy_mibps"] is not None:
                        e["x_idle_copy_speed"] = e["copy_mibps"] / (mib * 1000 / idle)
                if summ.get(set_, {}).get("copy_during_writes") and g("im-full"):
                    self.p("copy speed during (c) / idle im-full speed, set %s: " % set_ + ", ".join(
                        "%s %s" % (j, fratio(e.get("x_idle_copy_speed")))
                        for j, e in summ[set_]["copy_during_writes"].items()))
            self.p()
            summ["copies"] = cp
            self.plot_nbd_copies(cp, mib)
        self.summary["nbd"] = summ

    def plot_nbd_copies(self, cp, mib):
        base = os.path.join(self.plots, "nbd-copy")
        names = [c for c in cp if "ms" in cp[c]]
        with open(base + ".dat", "w") as f:
            f.write("# copy ms(median) MiB/s\n")
            for c in names:
                f.write("%s %.1f %.2f\n" % (c, cp[c]["ms"], mib * 1000 / cp[c]["ms"]))
        top = max([cp[c]["ms"] for c in names] or [1]) * 1.15
        gp = ["set terminal %s size 640,440 font 'sans,9'" % TERM,
              "set output 'nbd-copy.png'",
              'set title "whole-device copy of %.0f MiB onto the NBD device, no writer\\n(%s; medians)"'
              % (mib, self.nbd_set_title("nbd")),
              "set style fill solid 0.8 border -1", "set boxwidth 0.6", "set grid ytics", "set yrange [0:%f]" % top,
              "unset key", "set ylabel 'ms'",
              "plot 'nbd-copy.dat' using 0:2:xtic(1) with boxes lc rgb '#4472c4', "
              "'' using 0:2:(sprintf('%.0f ms, %.1f MiB/s',$2,$3)) with labels offset 0,0.7 font 'sans,8'"]
        self.gnuplot(base + ".gp", gp)

    def gnuplot(self, path, lines):
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run(["gnuplot", os.path.basename(path)], cwd=os.path.dirname(path),
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise SystemExit("bench.py: gnuplot failed on %s" % path)

    def run(self):
        st = open(os.path.join(self.raw, "exit-status")).read().strip() if \
            os.path.exists(os.path.join(self.raw, "exit-status")) else "?"
        i = self.info
        self.p("dm-incmirror benchmark: %s, incmirror %s (module sha256 %s...), dm-mirror %s, %s"
               % (i.get("kernel"), i.get("incmirror_version"), i.get("incmirror_sha256"),
                  i.get("mirror_version"), i.get("fio")))
        self.p("legs: %s MiB each, %s; dm-delay %s ms; regions 64 KiB (%s); %s rounds, %s s per fio job; guest exit %s"
               % (i.get("mib"), {"loop": "loop devices on tmpfs", "brd": "brd ramdisks"}.get(i.get("legs"), i.get("legs")),
                  i.get("delay_ms"), i.get("regions"), i.get("rounds"), i.get("runtime"), st))
        self.p("Absolute figures are TCG-emulated and mean little; compare ratios (of medians, same boot).")
        self.p()
        for set_ in i.get("write_sets", "").split():
            self.writes("writes", set_)
        self.writes("slowdst", "slowdst")
        self.copies()
        self.load_mem()
        self.sparse()
        self.nbd()
        text = "\n".join(self.lines) + "\n"
        with open(os.path.join(self.dir, "results.txt"), "w") as f:
            f.write(text)
        with open(os.path.join(self.dir, "summary.json"), "w") as f:
            json.dump(self.summary, f, indent=1, sort_keys=True)
        sys.stdout.write(text)


TERM = "pngcairo"


def main():
    global TERM
    if len(sys.argv) == 6 and sys.argv[1] == "scatter":
        scatter(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) == 3 and sys.argv[1] == "report":
        if not shutil.which("gnuplot"):
            raise SystemExit("bench.py: gnuplot is missing (make deps installs gnuplot-nox)")
        t = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        if "pngcairo" not in t.stdout + t.stderr:
            TERM = "png"
        Report(sys.argv[2]).run()
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
