#!/usr/bin/env bash
# Django anchor and Ocim alternately (D N D N …), then the per-page Node/Django ratios.
#
#   ./compare.sh                     # PAIRS=2: Django, Node, Django, Node (~9 minutes)
#   ./compare.sh --summarize DIR     # only the summary of the outputs already in DIR
#
# Settings (environment): PAIRS (2), OUT ($SCRATCH/compare.<time>), DJANGO_ANCHOR (required),
# SCRATCH (/tmp/perf); the shared knobs (THREADS, CONNECTIONS, DURATION, WARMUP, ROUNDS, REPEAT) go
# to both scripts unchanged; the others to run-node.sh (see its header).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DJANGO_ANCHOR=${DJANGO_ANCHOR:?set DJANGO_ANCHOR to the Django anchor folder (django-admin)}
SCRATCH=${SCRATCH:-/tmp/perf}
PY=${PY:-/usr/bin/python3}
PAIRS=${PAIRS:-2}

summarize() {  # summarize DIR
  "$PY" - "$1" <<'PYEOF'
import glob, os, re, statistics, sys

d = sys.argv[1]
NAMES = ["admin change list", "admin search", "appserver list, status=running", "console list", "admin change form",
         "console instance page", "console search", "audit-event change list", "console appserver page"]
# The Django row each Node row is compared with (run-node.sh's DJANGO_EQUIV): the anchor has five pages.
DJANGO_ROW = [0, 1, 2, 3, 4, 4, 1, 0, 4]

def table(path):
    rows, on = [], False
    for line in open(path):
        if line.startswith("url ") and "req/s" in line:
            on, rows = True, []
            continue
        if on:
            f = line.split()
            if not f or not re.match(r"^[\d.]+$", f[1] if len(f) > 1 else ""):
                on = False
                continue
            rows.append((f[0], *map(float, f[1:6]), " ".join(f[7:])))
    return rows

def single(path):
    for line in open(path):
        if line.startswith("single client"):
            return line.strip()
    return ""

def lines(path, start):
    return [l.rstrip() for l in open(path) if l.startswith(start)]

runs = sorted(glob.glob(os.path.join(d, "[dn]*.[0-9]*.txt")), key=lambda p: (int(p.rsplit(".", 2)[1]), p))
django = sorted((p for p in runs if os.path.basename(p).startswith("django.")), key=lambda p: int(p.rsplit(".", 2)[1]))
node = sorted((p for p in runs if os.path.basename(p).startswith("node.")), key=lambda p: int(p.rsplit(".", 2)[1]))
D = [table(p) for p in django]
N = [table(p) for p in node]
for label, paths, tabs in (("Django", django, D), ("Node", node, N)):
    for p, t in zip(paths, tabs):
        print(f"\n{label} run {p.rsplit('.', 2)[1]} ({os.path.basename(p)}):")
        print(f"| page | url | req/s | p50 | p90 | p95 | p99 |")
        print("|---|---|---|---|---|---|---|")
        for k, r in enumerate(t):
            note = f" {r[6]}" if r[6] else ""
            print(f"| {NAMES[k] if k < len(NAMES) else k} | `{r[0]}` | {r[1]:.1f} | {r[2]:.0f} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.0f} |{note}")
        s = single(p)
        if s:
            print(s)

pairs = min(len(D), len(N))
if pairs:
    print("\nNode req/s ÷ Django req/s per pair (run i of each), and p95 side by side (ms):")
    head = "| page | " + " | ".join(f"ratio {i+1}" for i in range(pairs)) + " | median ratio | Django p95 | Node p95 |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for k in range(len(N[0])):
        j = DJANGO_ROW[k]
        # a run the loaded host starved (0 req/s) gives no ratio
        ratios = [N[i][k][1] / D[i][j][1] for i in range(pairs) if D[i][j][1] > 0] or [0.0]
        dp95 = " / ".join(f"{D[i][j][4]:.0f}" for i in range(pairs))
        np95 = " / ".join(f"{N[i][k][4]:.1f}" for i in range(pairs))
        print(f"| {NAMES[k]} | " + " | ".join(f"{N[i][k][1] / D[i][j][1]:.2f}" if D[i][j][1] > 0 else "n/a" for i in range(pairs)) + f" | **{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f}) | {dp95} | {np95} |")
    print("\ngoal: every page >= 6x its Django page's req/s (median ratio) and p95 < 50 ms at 20 clients (median):")
    for k in range(len(N[0])):
        ratio = statistics.median([N[i][k][1] / D[i][DJANGO_ROW[k]][1] for i in range(pairs) if D[i][DJANGO_ROW[k]][1] > 0] or [0.0])
        p95 = statistics.median(N[i][k][4] for i in range(pairs))
        ok = ratio >= 6 and p95 < 50
        print(f"  {NAMES[k]:<32} {ratio:6.2f}x  p95 {p95:6.1f} ms  {'met' if ok else 'NOT met'}")
for p in node:
    block, on = [], False
    for l in open(p):
        if l.startswith("SQL per request"):
            on = True
        elif on and not l.strip():
            on = False
        if on:
            block.append(l.rstrip())
    print(f"\nnode {p.rsplit('.', 2)[1]}:")
    print("\n".join(block + lines(p, "/admin/instances: HTTP p50")))
for p in django:
    for l in lines(p, "/admin/fleet/instance/: HTTP p50"):
        print(f"django {p.rsplit('.', 2)[1]}: {l.strip()}")
PYEOF
}

if [ "${1:-}" = --summarize ]; then
  summarize "${2:?usage: compare.sh --summarize DIR}"
  exit 0
fi

OUT=${OUT:-$SCRATCH/compare.$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
echo "outputs in $OUT"
for i in $(seq 1 "$PAIRS"); do
  echo "== Django $i/$PAIRS ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
  SCRATCH="$SCRATCH/django-anchor" "$DJANGO_ANCHOR/run.sh" >"$OUT/django.$i.txt" 2>&1 || { tail -n 20 "$OUT/django.$i.txt" >&2; exit 1; }
  echo "== Node $i/$PAIRS ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
  SCRATCH="$SCRATCH" DJANGO_ANCHOR="$DJANGO_ANCHOR" "$HERE/run-node.sh" >"$OUT/node.$i.txt" 2>&1 || { tail -n 20 "$OUT/node.$i.txt" >&2; exit 1; }
done
summarize "$OUT" | tee "$OUT/summary.md"
