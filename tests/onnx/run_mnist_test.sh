#!/usr/bin/env bash
# tests/onnx/run_mnist_test.sh MNIST_CNN DATA_DIR - the issue's "done when": mnist_cnn trains
# one epoch of its small model and exports it (--onnx); ONNX Runtime's accuracy on the
# 10,000 test images (tests/onnx/mnist_ort.js) must equal the one mnist_cnn printed.
# Exits 77 (skip) when ONNX Runtime cannot be installed here (tests/onnx/run_ort_test.sh).
set -euo pipefail
CG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../scripts/setup.sh
source "$CG_ROOT/scripts/setup.sh"
mnist_cnn=${1:?usage: run_mnist_test.sh MNIST_CNN DATA_DIR}
data=${2:?usage: run_mnist_test.sh MNIST_CNN DATA_DIR}
if ! command -v node >/dev/null 2>&1 || ! ort=$(cg_install_npm onnxruntime-node "$CG_ORT_VERSION"); then
    echo "mnist onnx test: skipped: onnxruntime-node@$CG_ORT_VERSION cannot be installed here"
    exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && "$mnist_cnn" --data "$data" --epochs 1 --threads 2 --onnx small.onnx) >"$work/log"
cgrad=$(grep -o 'best test accuracy [0-9.]*%' "$work/log" | grep -o '[0-9.]*%')
runtime=$(node "$CG_ROOT/tests/onnx/mnist_ort.js" "$ort" "$work/small.onnx" "$data" | grep -o '[0-9.]*%')
echo "mnist_cnn: $cgrad, onnxruntime on the exported model: $runtime"
[ -n "$cgrad" ] && [ "$cgrad" = "$runtime" ]
