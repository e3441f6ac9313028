#!/usr/bin/python3
"""Print bench/compare's tables: cgrad vs OpenBLAS (GEMM) and cgrad vs PyTorch (conv,
training), one row per config with the ratio. Arguments: gemm.json cg.jsonl torch.jsonl."""
import json
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


gemm_doc = json.load(open(sys.argv[1]))
cg = {r["name"]: r for r in lines(sys.argv[2])}
torch = {r["name"]: r for r in lines(sys.argv[3])}

print(f"GEMM ({gemm_doc.get('kernel', '?')} kernel) vs OpenBLAS sgemm")
print(f"  {'shape':<34}{'cgrad GF/s':>11}{'OpenBLAS GF/s':>15}{'ratio':>8}")
for r in gemm_doc["rows"]:
    ob = r.get("openblas_gflops")
    ratio = f"{r['gflops'] / ob:8.2f}" if ob else "       -"
    obs = f"{ob:15.1f}" if ob else f"{'-':>15}"
    print(f"  {r['shape'] + ' ' + r['dims']:<34}{r['gflops']:11.1f}{obs}{ratio}")

print("Convolution (configs a-e) vs PyTorch: ms, lower is better; speedup = torch ms / cgrad ms")
print(f"  {'config':<12}{'cgrad ms':>10}{'torch ms':>10}{'speedup':>9}{'cgrad GF/s':>12}")
for name, r in cg.items():
    if r.get("bench") != "conv" or name not in torch:
        continue
    t = torch[name]
    print(f"  {name:<12}{r['ms']:10.2f}{t['ms']:10.2f}{t['ms'] / r['ms']:9.2f}{r['gflops']:12.1f}")

if "small_cnn" in cg and "small_cnn" in torch:
    a, b = cg["small_cnn"], torch["small_cnn"]
    print("End-to-end small CNN training (batch 64, SGD momentum):")
    print(f"  images/s: cgrad {a['images_per_s']:.0f}, torch {b['images_per_s']:.0f}, "
          f"ratio {a['images_per_s'] / b['images_per_s']:.2f}")
    print(f"  peak RSS: cgrad {a['peak_rss_mb']:.0f} MB, torch {b['peak_rss_mb']:.0f} MB, "
          f"ratio {a['peak_rss_mb'] / b['peak_rss_mb']:.2f}")
