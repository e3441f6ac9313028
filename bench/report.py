#!/usr/bin/python3
"""Print bench/compare's tables: cgrad vs OpenBLAS (GEMM) and cgrad vs PyTorch (conv,
training), one row per config with the ratio and, when a peak file is given, each side's
share of the FMA peak measured in the same run (bench_peak).
Arguments: gemm.json cg.jsonl torch.jsonl [peak.jsonl].

With --models RUN_DIR (bench/models): the model table of one run, from the run's
cg_<threads>.json and torch_<threads>.json: images/s of both sides and their ratio (above 1:
cgrad is faster), peak RSS of both sides and their ratio (below 1: cgrad needs less).

With --summary RUN_DIR... (bench/compare --runs N): every row's ratio in each run (each
ratio from one run: cgrad and the reference measured minutes apart at most), as the median
over the runs and the range, per thread count. On a VM whose neighbours come and go the
median of several runs says more than any one run."""
import json
import os
import statistics
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


def ratios(run_dir, t):
    """{row name: ratio} of one run's block for t threads: speed ratios (above 1: cgrad is
    faster) and the model rows' peak RSS ratios (below 1: cgrad needs less memory). A run of
    bench/models alone has no GEMM file."""
    out = {}
    gemm_path = os.path.join(run_dir, f"gemm_{t}.json")
    gemm = json.load(open(gemm_path)) if os.path.exists(gemm_path) else {"rows": []}
    for r in gemm["rows"]:
        if r.get("openblas_gflops"):
            out["GEMM " + r["shape"] + " " + r["dims"]] = r["gflops"] / r["openblas_gflops"]
    cg = {r["name"]: r for r in lines(os.path.join(run_dir, f"cg_{t}.json"))}
    ref = {r["name"]: r for r in lines(os.path.join(run_dir, f"torch_{t}.json"))}
    for name, r in cg.items():
        if name in ref and r.get("bench") == "conv":
            out["conv " + name] = ref[name]["ms"] / r["ms"]
    if "small_cnn" in cg and "small_cnn" in ref:
        out["train images/s"] = cg["small_cnn"]["images_per_s"] / ref["small_cnn"]["images_per_s"]
    for name, r in cg.items():
        if name in ref and r.get("bench") == "model":
            out[f"model {name} images/s"] = r["images_per_s"] / ref[name]["images_per_s"]
            out[f"model {name} peak RSS"] = r["peak_rss_mb"] / ref[name]["peak_rss_mb"]
    return out


def thread_counts(run_dir):
    return sorted({f[len("cg_"):-len(".json")] for f in os.listdir(run_dir)
                   if f.startswith("cg_")}, key=int)


def models_table(run_dir):
    """bench/models' table of one run: every model row at every thread count."""
    print(f"  {'model':<13}{'mode':<10}{'threads':>7}{'cgrad img/s':>13}{'torch img/s':>13}"
          f"{'ratio':>7}{'cgrad MB':>10}{'torch MB':>10}{'RSS ratio':>11}")
    for t in thread_counts(run_dir):
        cg = [r for r in lines(os.path.join(run_dir, f"cg_{t}.json")) if r.get("bench") == "model"]
        ref = {r["name"]: r for r in lines(os.path.join(run_dir, f"torch_{t}.json"))}
        for a in cg:
            b = ref.get(a["name"])
            if not b:
                print(f"  {a['model']:<13}{a['mode']:<10}{t:>7}  (no PyTorch row)")
                continue
            print(f"  {a['model']:<13}{a['mode']:<10}{t:>7}{a['images_per_s']:13.0f}"
                  f"{b['images_per_s']:13.0f}{a['images_per_s'] / b['images_per_s']:7.2f}"
                  f"{a['peak_rss_mb']:10.0f}{b['peak_rss_mb']:10.0f}"
                  f"{a['peak_rss_mb'] / b['peak_rss_mb']:11.2f}")


def summary(run_dirs):
    threads = thread_counts(run_dirs[0])
    per = {t: [ratios(d, t) for d in run_dirs] for t in threads}
    names = list(per[threads[0]][0])
    print(f"Summary of {len(run_dirs)} runs: the ratio's median over the runs [min-max]")
    print("  (speed: above 1 is cgrad faster; peak RSS: cgrad's / PyTorch's, below 1 is cgrad "
          "smaller)")
    print(f"  {'row':<52}" + "".join(f"{t + ' thread(s)':>22}" for t in threads))
    for name in names:
        cells = []
        for t in threads:
            v = [r[name] for r in per[t] if name in r]
            cells.append(f"{statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}]" if v else "-")
        print(f"  {name:<52}" + "".join(f"{c:>22}" for c in cells))


if sys.argv[1] == "--summary":
    summary(sys.argv[2:])
    sys.exit(0)
if sys.argv[1] == "--models":
    models_table(sys.argv[2])
    sys.exit(0)

gemm_doc = json.load(open(sys.argv[1]))
cg = {r["name"]: r for r in lines(sys.argv[2])}
torch = {r["name"]: r for r in lines(sys.argv[3])}
peak_rows = lines(sys.argv[4]) if len(sys.argv) > 4 else []
peak = peak_rows[0]["gflops"] if peak_rows else None


def share(gflops):
    """GFLOP/s as a percentage of the measured peak, or '-' without one."""
    return f"{100.0 * gflops / peak:.0f}%" if peak and gflops else "-"


if peak:
    p = peak_rows[0]
    print(f"FMA peak ({p['isa']}, {p['threads']} thread(s)): {peak:.1f} GFLOP/s")

print(f"GEMM ({gemm_doc.get('kernel', '?')} kernel) vs OpenBLAS sgemm")
print(f"  {'shape':<44}{'cgrad GF/s':>11}{'peak':>6}{'OpenBLAS GF/s':>15}{'ratio':>8}")
for r in gemm_doc["rows"]:
    ob = r.get("openblas_gflops")
    ratio = f"{r['gflops'] / ob:8.2f}" if ob else "       -"
    obs = f"{ob:15.1f}" if ob else f"{'-':>15}"
    print(f"  {r['shape'] + ' ' + r['dims']:<44}{r['gflops']:11.1f}{share(r['gflops']):>6}"
          f"{obs}{ratio}")

print("Convolution (configs a-e, then the ResNet's layers stem-b3sc) vs PyTorch: ms, lower is "
      "better; speedup = torch ms / cgrad ms")
print(f"  {'config':<12}{'cgrad ms':>10}{'torch ms':>10}{'speedup':>9}{'cgrad GF/s':>12}"
      f"{'peak':>6}{'torch GF/s':>12}{'peak':>6}")
for name, r in cg.items():
    if r.get("bench") != "conv" or name not in torch:
        continue
    t = torch[name]
    print(f"  {name:<12}{r['ms']:10.2f}{t['ms']:10.2f}{t['ms'] / r['ms']:9.2f}{r['gflops']:12.1f}"
          f"{share(r['gflops']):>6}{t['gflops']:12.1f}{share(t['gflops']):>6}")

if "small_cnn" in cg and "small_cnn" in torch:
    a, b = cg["small_cnn"], torch["small_cnn"]
    print("End-to-end small CNN training (batch 64, SGD momentum):")
    print(f"  images/s: cgrad {a['images_per_s']:.0f}, torch {b['images_per_s']:.0f}, "
          f"ratio {a['images_per_s'] / b['images_per_s']:.2f}")
    if "gflops" in a:
        torch_gflops = a["mflop_per_step"] / b["ms"]  # MFLOP per ms is GFLOP/s
        print(f"  step: {a['mflop_per_step']:.0f} MFLOP; cgrad {a['ms']:.2f} ms = "
              f"{a['gflops']:.1f} GFLOP/s ({share(a['gflops'])} of peak), torch {b['ms']:.2f} ms"
              f" = {torch_gflops:.1f} GFLOP/s ({share(torch_gflops)} of peak)")
    print(f"  peak RSS: cgrad {a['peak_rss_mb']:.0f} MB, torch {b['peak_rss_mb']:.0f} MB, "
          f"ratio {a['peak_rss_mb'] / b['peak_rss_mb']:.2f}")
