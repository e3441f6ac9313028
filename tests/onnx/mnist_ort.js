// tests/onnx/mnist_ort.js ORT_DIR MODEL.onnx DATA_DIR - the Fashion-MNIST test set's accuracy
// of an exported mnist_cnn model in ONNX Runtime, all 10,000 images in one batch, inputs
// normalised as mnist_cnn does; prints "accuracy NN.NN%" as mnist_cnn prints its own.
"use strict";
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const [ortDir, model, data] = process.argv.slice(2);
const ort = require(path.join(ortDir, "node_modules", "onnxruntime-node"));
const MEAN = 0.2860, STD = 0.3530; // examples/mnist_cnn.c's Fashion-MNIST statistics

function idx(name, header) {
    return zlib.gunzipSync(fs.readFileSync(path.join(data, name))).subarray(header);
}

async function main() {
    const images = idx("t10k-images-idx3-ubyte.gz", 16), labels = idx("t10k-labels-idx1-ubyte.gz", 8);
    const n = labels.length, x = new Float32Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = (images[i] / 255 - MEAN) / STD;
    const session = await ort.InferenceSession.create(model);
    const y = (await session.run({ input: new ort.Tensor("float32", x, [n, 1, 28, 28]) })).output.data;
    let correct = 0;
    for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < 10; k++) if (y[i * 10 + k] > y[i * 10 + best]) best = k;
        if (best === labels[i]) correct++;
    }
    console.log(`accuracy ${(100 * correct / n).toFixed(2)}%`);
}

main().catch(e => { console.error(e); process.exit(1); });
