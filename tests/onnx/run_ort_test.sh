#!/usr/bin/env bash
# tests/onnx/run_ort_test.sh DIR - the models test_onnx exported into DIR run in ONNX
# Runtime (tests/onnx/run_ort.js) and give cgrad's outputs. ONNX Runtime is the npm package
# onnxruntime-node (CG_ORT_VERSION, scripts/setup.sh) with its bundled CPU library,
# installed once into ~/.cache/cgrad/npm by cg_install_npm. Exits 77 (ctest's skip code),
# saying why, when node or the package cannot be installed here.
set -euo pipefail
CG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/setup.sh
source "$CG_ROOT/scripts/setup.sh"
dir=${1:?usage: run_ort_test.sh DIR}
if ! command -v node >/dev/null 2>&1 && ! cg_install_packages nodejs; then
    echo "onnxruntime test: skipped: node is not installed and cannot be installed here"
    exit 77
fi
if ! ort=$(cg_install_npm onnxruntime-node "$CG_ORT_VERSION"); then
    echo "onnxruntime test: skipped: onnxruntime-node@$CG_ORT_VERSION cannot be installed here"
    exit 77
fi
exec node "$CG_ROOT/tests/onnx/run_ort.js" "$ort" "$dir"
