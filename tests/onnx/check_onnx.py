#!/usr/bin/env python3
# tests/onnx/check_onnx.py DIR - every file test_onnx exported (DIR/manifest.json) passes
# onnx.checker.check_model(full_check=True): the schema of every node under its opset, and
# shape inference through the whole graph. Also checks what the exporter promises: IR
# version 8, producer "cgrad", one input "input" and one output "output" with the symbolic
# batch dim "N", and an initializer for every name a node reads that no node makes.
# Exits 77 (ctest's skip code) when Python's onnx is not installed (Debian: python3-onnx).
import json
import os
import sys

try:
    import onnx
except ImportError:
    print("onnx check: skipped: python3-onnx is not installed")
    sys.exit(77)


def check(path):
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    graph = model.graph
    assert model.ir_version == 8, model.ir_version
    assert model.producer_name == "cgrad", model.producer_name
    assert [i.name for i in graph.input] == ["input"], graph.input
    assert [o.name for o in graph.output] == ["output"], graph.output
    batch = graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "N", batch
    made = {o for n in graph.node for o in n.output}
    known = made | {i.name for i in graph.initializer} | {"input", ""}
    for n in graph.node:
        for i in n.input:
            assert i in known, f"{n.op_type} reads {i!r}, which nothing defines"
    return len(graph.node), model.opset_import[0].version


def main():
    directory = sys.argv[1]
    with open(os.path.join(directory, "manifest.json")) as f:
        cases = json.load(f)
    for case in cases:
        nodes, opset = check(os.path.join(directory, case["file"]))
        print(f"{case['file']}: ok ({nodes} nodes, opset {opset})")
    print(f"onnx check: {len(cases)} files pass check_model(full_check=True)")


main()
