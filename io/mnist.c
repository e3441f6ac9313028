// io/mnist.c - IDX file reader (plain or gzip) and the MNIST / Fashion-MNIST datasets.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "data.h"

// ---- IDX --------------------------------------------------------------------------------

// Read up to n bytes; returns the count read (short only at end of input) or -1 after
// reporting a zlib error (corrupt compressed data).
static int64_t read_bytes(gzFile f, const char *path, uint8_t *buf, int64_t n) {
    int64_t done = 0;
    while (done < n) {
        int64_t want = n - done > (1 << 30) ? (1 << 30) : n - done;
        int got = gzread(f, buf + done, (unsigned)want);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            cg_error(code == Z_ERRNO ? CG_ERR_IO : CG_ERR_FORMAT, "idx: %s: %s", path,
                     code == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (got == 0) break;
        done += got;
    }
    return done;
}

static const char *idx_dtype_name(int code) {
    switch (code) {
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "int16";
    case 0x0C:
        return "int32";
    case 0x0D:
        return "float32";
    case 0x0E:
        return "float64";
    default:
        return NULL;
    }
}

// Validate the 4-byte magic and the dims; fills ndim/shape/numel or reports and returns -1.
static int read_idx_header(gzFile f, const char *path, int *ndim, int64_t *shape, int64_t *numel) {
    uint8_t magic[4];
    int64_t got = read_bytes(f, path, magic, 4);
    if (got < 0) return -1;
    if (got < 4) {
        cg_error(CG_ERR_FORMAT, "idx: %s: truncated: %lld bytes, shorter than the 4-byte header",
                 path, (long long)got);
        return -1;
    }
    if (magic[0] != 0 || magic[1] != 0) {
        cg_error(CG_ERR_FORMAT,
                 "idx: %s: bad magic 0x%02x%02x%02x%02x: not an IDX file (expected 0x000008xx)",
                 path, magic[0], magic[1], magic[2], magic[3]);
        return -1;
    }
    if (magic[2] != 0x08) {
        const char *name = idx_dtype_name(magic[2]);
        if (name)
            cg_error(CG_ERR_FORMAT,
                     "idx: %s: dtype 0x%02x (%s) is not supported, only 0x08 (unsigned byte)", path,
                     magic[2], name);
        else
            cg_error(CG_ERR_FORMAT, "idx: %s: unknown dtype 0x%02x (expected 0x08, unsigned byte)",
                     path, magic[2]);
        return -1;
    }
    *ndim = magic[3];
    if (*ndim < 1 || *ndim > CG_IDX_MAX_RANK) {
        cg_error(CG_ERR_FORMAT, "idx: %s: rank %d is out of range 1..%d", path, *ndim,
                 CG_IDX_MAX_RANK);
        return -1;
    }
    uint8_t dims[4 * CG_IDX_MAX_RANK];
    got = read_bytes(f, path, dims, 4 * *ndim);
    if (got < 0) return -1;
    if (got < 4 * *ndim) {
        cg_error(CG_ERR_FORMAT, "idx: %s: truncated in the header (%d dims expected)", path, *ndim);
        return -1;
    }
    // The product of the non-zero dims is bounded too: a file with 0 images must not declare
    // absurd image dims (a loader would size its buffers by them). Checked per factor so the
    // product cannot overflow.
    int64_t nonzero = 1;
    for (int i = 0; i < *ndim; i++) {
        const uint8_t *d = dims + 4 * i;
        shape[i] = ((int64_t)d[0] << 24) | ((int64_t)d[1] << 16) | ((int64_t)d[2] << 8) | d[3];
        if (shape[i] > CG_IDX_MAX_ELEMENTS ||
            (shape[i] > 0 && nonzero > CG_IDX_MAX_ELEMENTS / shape[i])) {
            cg_error(CG_ERR_FORMAT,
                     "idx: %s: dims %s hold more than %lld elements (corrupt header?)", path,
                     cg_shape_str(i + 1, shape), (long long)CG_IDX_MAX_ELEMENTS);
            return -1;
        }
        if (shape[i] > 0) nonzero *= shape[i]; // bounded: each dim <= 2^28, checked
    }
    *numel = nonzero;
    for (int i = 0; i < *ndim; i++)
        if (shape[i] == 0) *numel = 0;
    return 0;
}

// Read exactly `numel` bytes into a buffer that grows with the data actually present, so a
// corrupt header claiming huge dims fails as "truncated" without a huge allocation.
static uint8_t *read_idx_payload(gzFile f, const char *path, int64_t numel, int ndim,
                                 const int64_t *shape) {
    int64_t cap = numel < (1 << 20) ? numel : (1 << 20), have = 0;
    uint8_t *buf = cg_alloc((size_t)(cap > 0 ? cap : 1));
    while (buf) {
        int64_t got = read_bytes(f, path, buf + have, cap - have);
        if (got < 0) break;
        have += got;
        if (have < cap) {
            cg_error(CG_ERR_FORMAT, "idx: %s: truncated: dims %s need %lld data bytes, found %lld",
                     path, cg_shape_str(ndim, shape), (long long)numel, (long long)have);
            break;
        }
        if (have == numel) {
            uint8_t extra;
            got = read_bytes(f, path, &extra, 1);
            if (got < 0) break;
            if (got > 0) {
                cg_error(CG_ERR_FORMAT, "idx: %s: trailing bytes after the %lld bytes of dims %s",
                         path, (long long)numel, cg_shape_str(ndim, shape));
                break;
            }
            return buf;
        }
        int64_t next = cap * 2 < numel ? cap * 2 : numel;
        uint8_t *bigger = cg_alloc((size_t)next);
        if (!bigger) break;
        memcpy(bigger, buf, (size_t)have);
        cg_dealloc(buf);
        buf = bigger;
        cap = next;
    }
    cg_dealloc(buf);
    return NULL;
}

// The file's bytes (cg_dealloc them) and dims, or NULL after reporting the error.
static uint8_t *idx_read(const char *path, int *ndim, int64_t *shape, int64_t *numel) {
    if (!path) return cg_error(CG_ERR_ARG, "idx: path is NULL");
    gzFile f = gzopen(path, "rb");
    if (!f) return cg_error(CG_ERR_IO, "idx: cannot open %s: %s", path, strerror(errno));
    uint8_t *bytes = NULL;
    if (read_idx_header(f, path, ndim, shape, numel) == 0)
        bytes = read_idx_payload(f, path, *numel, *ndim, shape);
    gzclose(f);
    return bytes;
}

cg_tensor *cg_idx_load(const char *path) {
    int ndim;
    int64_t shape[CG_IDX_MAX_RANK], numel;
    uint8_t *bytes = idx_read(path, &ndim, shape, &numel);
    if (!bytes) return NULL;
    cg_tensor *t = cg_empty_unscoped(ndim, shape);
    if (t)
        for (int64_t i = 0; i < numel; i++) t->data[i] = bytes[i];
    cg_dealloc(bytes);
    return t;
}

// ---- MNIST ---------------------------------------------------------------------------------

const char *const cg_mnist_digit_classes[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
const char *const cg_fashion_mnist_classes[10] = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                  "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                  "Bag",         "Ankle boot"};

const char *cg_mnist_class_name(cg_mnist_kind kind, int label) {
    if (label < 0 || label > 9) return "?";
    return kind == CG_MNIST_FASHION ? cg_fashion_mnist_classes[label]
                                    : cg_mnist_digit_classes[label];
}

// The two means are far apart (0.13 vs 0.29): the first ~1000 images are plenty.
static cg_mnist_kind kind_from_mean(double mean) {
    return mean > 0.2 ? CG_MNIST_FASHION : CG_MNIST_DIGITS;
}

cg_mnist_kind cg_mnist_detect(const cg_tensor *images) {
    if (!cg_check_arg(images, "mnist_detect", "images") || images->numel == 0)
        return CG_MNIST_DIGITS;
    int64_t n = images->numel < 784 * 1000 ? images->numel : 784 * 1000;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += images->data[i];
    return kind_from_mean(sum / (double)n);
}

static cg_mnist_kind detect_bytes(const uint8_t *pixels, int64_t numel) {
    if (numel == 0) return CG_MNIST_DIGITS;
    int64_t n = numel < 784 * 1000 ? numel : 784 * 1000;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += pixels[i];
    return kind_from_mean(sum / (255.0 * (double)n));
}

// Find "<dir>/<name>" or "<dir>/<name>.gz" (also with the dotted variant of the name)
// and write the path that exists into `path`; returns false if none does.
static bool find_file(const char *dir, const char *prefix, const char *suffix, char *path,
                      size_t size) {
    const char *seps[2] = {"-", "."};
    const char *exts[2] = {"", ".gz"};
    for (int s = 0; s < 2; s++)
        for (int e = 0; e < 2; e++) {
            snprintf(path, size, "%s/%s%s%s%s", dir, prefix, seps[s], suffix, exts[e]);
            FILE *f = fopen(path, "rb");
            if (f) {
                fclose(f);
                return true;
            }
        }
    snprintf(path, size, "%s/%s-%s", dir, prefix, suffix);
    return false;
}

// The bytes of one of the four files, or NULL after reporting the error.
static uint8_t *load_part(const char *dir, const char *split, const char *what, int *ndim,
                          int64_t *shape, int64_t *numel) {
    char prefix[32], path[4096];
    snprintf(prefix, sizeof prefix, "%s-%s", split, what);
    const char *suffix = strcmp(what, "images") == 0 ? "idx3-ubyte" : "idx1-ubyte";
    if (!find_file(dir, prefix, suffix, path, sizeof path))
        return cg_error(CG_ERR_IO,
                        "mnist: no %s-%s[.gz] in %s (Fashion-MNIST: apt install "
                        "dataset-fashion-mnist, files in /usr/share/datasets/fashion-mnist; "
                        "or the 4 MNIST files from https://yann.lecun.com/exdb/mnist/)",
                        prefix, suffix, dir);
    return idx_read(path, ndim, shape, numel);
}

// Both loaders: images as float tensor (keep_bytes false) or as bytes.
static int mnist_load(const char *dir, bool train, bool keep_bytes, cg_mnist *out) {
    if (!out) {
        cg_error(CG_ERR_ARG, "mnist: out is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (!dir) {
        cg_error(CG_ERR_ARG, "mnist: dir is NULL");
        return -1;
    }
    const char *split = train ? "train" : "t10k";
    int ni = 0, nl = 0;
    int64_t si[CG_IDX_MAX_RANK], sl[CG_IDX_MAX_RANK], numel_i, numel_l;
    uint8_t *pixels = load_part(dir, split, "images", &ni, si, &numel_i);
    uint8_t *labels = pixels ? load_part(dir, split, "labels", &nl, sl, &numel_l) : NULL;
    if (!labels) goto fail;
    if (ni != 3 || nl != 1) {
        cg_error(CG_ERR_FORMAT,
                 "mnist: %s: images must be (N,H,W) and labels (N), got images %s, labels %s", dir,
                 cg_shape_str(ni, si), cg_shape_str(nl, sl));
        goto fail;
    }
    if (si[0] != sl[0]) {
        cg_error(CG_ERR_FORMAT, "mnist: %s: %lld %s images but %lld labels", dir, (long long)si[0],
                 split, (long long)sl[0]);
        goto fail;
    }
    int64_t n = si[0];
    if (n == 0 || si[1] == 0 || si[2] == 0) { // a dataset to train on needs pixels
        cg_error(CG_ERR_FORMAT, "mnist: %s: the %s images %s are empty", dir, split,
                 cg_shape_str(ni, si));
        goto fail;
    }
    out->labels = cg_empty_unscoped(CG_SHAPE(n));
    if (!out->labels) goto fail;
    int max_label = -1;
    for (int64_t i = 0; i < n; i++) {
        out->labels->data[i] = labels[i];
        if (labels[i] > max_label) max_label = labels[i];
    }
    cg_dealloc(labels);
    labels = NULL;
    out->count = n;
    out->height = si[1];
    out->width = si[2];
    out->num_classes = max_label + 1;
    out->kind = detect_bytes(pixels, numel_i);
    if (keep_bytes) {
        out->pixels = pixels;
        return 0;
    }
    out->images = cg_empty_unscoped(CG_SHAPE(n, 1, si[1], si[2]));
    if (!out->images) goto fail;
    for (int64_t i = 0; i < numel_i; i++) out->images->data[i] = pixels[i] / 255.0f; // ToTensor
    cg_dealloc(pixels);
    return 0;
fail:
    cg_dealloc(pixels);
    cg_dealloc(labels);
    cg_mnist_free(out);
    return -1;
}

int cg_mnist_load(const char *dir, bool train, cg_mnist *out) {
    return mnist_load(dir, train, false, out);
}
int cg_mnist_load_bytes(const char *dir, bool train, cg_mnist *out) {
    return mnist_load(dir, train, true, out);
}

void cg_mnist_free(cg_mnist *m) {
    if (!m) return;
    cg_free(m->images);
    cg_free(m->labels);
    cg_dealloc(m->pixels);
    memset(m, 0, sizeof *m);
}
