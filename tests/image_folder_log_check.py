#!/usr/bin/python3
# tests/image_folder_log_check.py EXAMPLE WORKDIR - the whole path of docs/data.md on a
# tiny data set made at test time: Fashion-MNIST-shaped IDX files (3 classes of 12x12
# pictures) -> scripts/idx_to_image_folder.py -> examples/image_folder_cnn --log, one epoch
# -> the three files of its run directory, each parsed: metrics.csv's rows (tags, steps,
# values against what the example printed), curves.png (signature, IHDR, every chunk's
# CRC, the pixels inflate to the declared size) and the TensorBoard event file
# (tfevents_check.check: both masked CRC32Cs of every record, and the scalars equal the CSV).
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tfevents_check  # noqa: E402

SIDE, CLASSES, TRAIN, TEST, BATCH = 12, 3, 24, 12, 8


def write_idx(path, dims, body):
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, len(dims)) + struct.pack(">" + "I" * len(dims), *dims))
        f.write(bytes(body))


def make_idx(directory, rng):
    """Class k is a bright horizontal bar at rows 4k..4k+3 over noise: learnable, tiny."""
    os.makedirs(directory)
    for prefix, n in (("train", TRAIN), ("t10k", TEST)):
        labels = [i % CLASSES for i in range(n)]
        pixels = []
        for label in labels:
            for y in range(SIDE):
                bar = 4 * label <= y < 4 * label + 4
                pixels += [rng.randrange(200, 256) if bar else rng.randrange(0, 60)
                           for _ in range(SIDE)]
        write_idx(os.path.join(directory, prefix + "-images-idx3-ubyte"), (n, SIDE, SIDE), pixels)
        write_idx(os.path.join(directory, prefix + "-labels-idx1-ubyte"), (n,), labels)


def check_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature: %r" % data[:8]
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, payload = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF, "bad CRC in chunk %r" % kind
        chunks.append(kind)
        idat += payload if kind == b"IDAT" else b""
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", payload[:10])
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND", chunks
    assert width == 720 and height >= 260 and depth == 8, (width, height, depth)
    channels = {0: 1, 2: 3, 6: 4}[colour]
    assert len(zlib.decompress(idat)) == height * (1 + width * channels)
    return width, height


def main(example, work):
    shutil.rmtree(work, ignore_errors=True)
    idx, folder, log = (os.path.join(work, d) for d in ("fashion-idx", "png", "run"))
    make_idx(idx, random.Random(20))
    script = os.path.join(HERE, "..", "scripts", "idx_to_image_folder.py")
    subprocess.run([sys.executable, script, idx, folder], check=True)
    assert sorted(os.listdir(os.path.join(folder, "train"))) == ["0_T-shirt-top", "1_Trouser",
                                                                 "2_Pullover"]
    out = subprocess.run([example, "--train", os.path.join(folder, "train"), "--test",
                          os.path.join(folder, "test"), "--epochs", "1", "--size", str(SIDE),
                          "--batch", str(BATCH), "--threads", "1", "--workers", "1", "--log", log],
                         check=True, capture_output=True, text=True).stdout
    print(out, end="")
    printed = float(re.search(r"test accuracy: ([0-9.]+)%\n$", out).group(1))
    rows = open(os.path.join(log, "metrics.csv")).read().splitlines()
    assert rows[0] == "step,tag,value", rows[0]
    values = {}
    for row in rows[1:]:
        step, tag, value = row.split(",")
        assert int(step) == TRAIN // BATCH, row  # the optimizer steps of one epoch
        values[tag] = float(value)
    assert len(rows) == 4 and set(values) == {"train/loss", "test/accuracy", "lr"}, rows
    assert abs(values["test/accuracy"] * 100 - printed) < 0.006, (values, printed)
    assert abs(values["lr"] - 0.02) < 1e-9 and 0 < values["train/loss"] < 10, values
    width, height = check_png(os.path.join(log, "curves.png"))
    events = tfevents_check.check(log)
    assert [e.summary.value[0].tag for e in events] == ["train/loss", "test/accuracy", "lr"]
    print("image_folder_log_check: 3 CSV rows, a %dx%d PNG and %d event records check out"
          % (width, height, len(events) + 1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
