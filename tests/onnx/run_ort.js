// tests/onnx/run_ort.js ORT_DIR DIR - every model test_onnx exported (DIR/manifest.json) run
// in ONNX Runtime (the npm package onnxruntime-node with its bundled CPU library, installed
// in ORT_DIR by tests/onnx/run_ort_test.sh) on the inputs test_onnx saved, at the traced
// batch size and at another one (the batch dim is symbolic). Every output element must
// satisfy |ort - cgrad| <= ATOL + RTOL * |cgrad|.
"use strict";
const fs = require("fs");
const path = require("path");

const ATOL = 1e-5, RTOL = 1e-5;
const [ortDir, dir] = process.argv.slice(2);
const ort = require(path.join(ortDir, "node_modules", "onnxruntime-node"));

function floats(file) {
    const b = fs.readFileSync(path.join(dir, file));
    return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function runCase(c) {
    const session = await ort.InferenceSession.create(path.join(dir, c.file));
    const failures = [];
    for (const run of c.runs) {
        const x = new ort.Tensor("float32", floats(run.input), run.input_shape);
        const y = (await session.run({ input: x })).output;
        const want = floats(run.output);
        if (JSON.stringify(y.dims) !== JSON.stringify(run.output_shape)) {
            failures.push(`${c.name} batch ${run.input_shape[0]}: shape [${y.dims}], cgrad [${run.output_shape}]`);
            continue;
        }
        let worst = 0, at = -1;
        for (let i = 0; i < want.length; i++) {
            const excess = Math.abs(y.data[i] - want[i]) - (ATOL + RTOL * Math.abs(want[i]));
            if (!(excess <= worst)) { // NaN counts as a failure
                worst = Number.isNaN(excess) ? Infinity : excess;
                at = i;
            }
        }
        if (at >= 0)
            failures.push(`${c.name} batch ${run.input_shape[0]}: element ${at}: onnxruntime ${y.data[at]}, cgrad ${want[at]}`);
    }
    return failures;
}

async function main() {
    const cases = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
    let failures = [];
    for (const c of cases) {
        const f = await runCase(c);
        console.log(`${c.file}: ${f.length ? "FAILED" : "ok"} (batch ${c.runs.map(r => r.input_shape[0]).join(", ")})`);
        failures = failures.concat(f);
    }
    for (const f of failures) console.error(`  ${f}`);
    if (failures.length) process.exit(1);
    console.log(`onnxruntime: ${cases.length} models give cgrad's outputs (atol ${ATOL}, rtol ${RTOL})`);
}

main().catch(e => { console.error(e); process.exit(1); });
