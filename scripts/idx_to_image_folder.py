#!/usr/bin/env python3
"""Turn MNIST / Fashion-MNIST IDX files into an ImageFolder tree of PNGs, for
examples/image_folder_cnn (docs/data.md).

    scripts/idx_to_image_folder.py [--limit N] [IDX_DIR] OUT_DIR

IDX_DIR defaults to /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist, as
scripts/setup.sh installs it) and must hold train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or .gz. Writes
OUT_DIR/train/<class>/<n>.png and OUT_DIR/test/<class>/<n>.png, 8-bit grayscale, one file
per picture, n its index in the IDX file (zero-padded). Class directories are "<label>_<name>"
(e.g. "0_T-shirt-top"), so their sorted order is the label order and ImageFolder's labels
equal the IDX labels. --limit N writes only the first N pictures of each split (a quick
trial; bench/loader uses it for its smoke runs). Plain Python (gzip, zlib, struct): no PIL
needed.
"""
import gzip
import os
import struct
import sys
import zlib

FASHION = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle-boot"]


def read_idx(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            break
    else:
        sys.exit("idx_to_image_folder: %s(.gz) not found in %s" % (name, directory))
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or not 1 <= rank <= 3:
        sys.exit("idx_to_image_folder: %s is not an IDX file of bytes" % name)
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    body = data[4 + 4 * rank:]
    size = 1
    for d in dims:
        size *= d
    if len(body) != size:
        sys.exit("idx_to_image_folder: %s holds %d bytes, its header says %d" % (name, len(body), size))
    return dims, body


def png(width, height, pixels):
    """An 8-bit grayscale PNG of `pixels` (height rows of width bytes)."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload +
                struct.pack(">I", zlib.crc32(kind + payload) & 0xffffffff))
    rows = b"".join(b"\0" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6))
            + chunk(b"IEND", b""))


def convert(idx_dir, out_dir, split, prefix, limit=None):
    (n, h, w), images = read_idx(idx_dir, prefix + "-images-idx3-ubyte")
    (m,), labels = read_idx(idx_dir, prefix + "-labels-idx1-ubyte")
    if n != m:
        sys.exit("idx_to_image_folder: %d %s images but %d labels" % (n, split, m))
    digits = len(str(n - 1))
    n = min(n, limit) if limit is not None else n
    names = FASHION if max(labels) < len(FASHION) and "fashion" in idx_dir.lower() else None
    for i in range(n):
        label = labels[i]
        cls = "%d_%s" % (label, names[label]) if names else "%d" % label
        folder = os.path.join(out_dir, split, cls)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "%0*d.png" % (digits, i)), "wb") as f:
            f.write(png(w, h, images[i * h * w:(i + 1) * h * w]))
    print("%s: %d pictures in %s" % (split, n, os.path.join(out_dir, split)))


def main():
    args = sys.argv[1:]
    limit = None
    if len(args) >= 2 and args[0] == "--limit":
        if not args[1].isdigit() or int(args[1]) < 1:
            sys.exit("idx_to_image_folder: --limit needs a positive integer, got %s" % args[1])
        limit, args = int(args[1]), args[2:]
    if len(args) not in (1, 2) or args[0] in ("-h", "--help"):
        sys.exit(__doc__)
    idx_dir = args[0] if len(args) == 2 else "/usr/share/datasets/fashion-mnist"
    out_dir = args[-1]
    convert(idx_dir, out_dir, "train", "train", limit)
    convert(idx_dir, out_dir, "test", "t10k", limit)


if __name__ == "__main__":
    main()
