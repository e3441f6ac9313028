// io/dataset.c - the dataset interface and the datasets over tensors and byte arrays
// (IDX / MNIST). ImageFolder is in io/image_folder.c.
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "dataset_internal.h"

void cg_sample_clear(cg_sample *s) {
    if (!s) return;
    cg_dealloc(s->bytes);
    cg_dealloc(s->data);
    memset(s, 0, sizeof *s);
}

cg_dataset *cg_dataset_new(const cg_dataset_vtable *vtable, void *self) {
    if (!vtable || !vtable->count || !vtable->get)
        return cg_error(CG_ERR_ARG, "dataset_new: the vtable needs count and get (got %s)",
                        vtable ? "a NULL function" : "NULL");
    cg_dataset *d = cg_alloc_zeroed(sizeof *d);
    if (!d) return NULL;
    d->vtable = *vtable;
    d->self = self;
    return d;
}

int64_t cg_dataset_count(const cg_dataset *d) {
    return cg_check_ptr(d, "dataset_count", "d") ? d->vtable.count(d->self) : -1;
}

int cg_dataset_get(const cg_dataset *d, int64_t i, cg_sample *out) {
    if (out) memset(out, 0, sizeof *out);
    if (!d || !out) {
        cg_error(CG_ERR_ARG, "dataset_get: dataset or out is NULL");
        return -1;
    }
    int64_t n = d->vtable.count(d->self);
    if (i < 0 || i >= n) {
        cg_error(CG_ERR_ARG, "dataset_get: index %lld out of range for %lld samples", (long long)i,
                 (long long)n);
        return -1;
    }
    if (d->vtable.get(d->self, i, out) == 0) return 0;
    cg_sample_clear(out);
    return -1;
}

void cg_dataset_free(cg_dataset *d) {
    if (!d) return;
    if (d->vtable.free) d->vtable.free(d->self);
    cg_dealloc(d);
}

// ---- over tensors / bytes ------------------------------------------------------------------

typedef struct array_set {
    cg_tensor *images, *labels;
    const uint8_t *pixels;
    int64_t n;
    int c, h, w;
} array_set;

static int64_t array_count(void *self) {
    return ((array_set *)self)->n;
}

static int array_get(void *self, int64_t i, cg_sample *out) {
    array_set *a = self;
    size_t plane = (size_t)a->h * (size_t)a->w, size = plane * (size_t)a->c;
    out->c = a->c, out->h = a->h, out->w = a->w;
    out->label = a->labels ? (int64_t)a->labels->data[i] : -1;
    if (a->images) {
        out->data = cg_alloc(size * sizeof(float));
        if (!out->data) return -1;
        memcpy(out->data, a->images->data + i * (int64_t)size, size * sizeof(float));
        return 0;
    }
    out->bytes = cg_alloc(size);
    if (!out->bytes) return -1;
    const uint8_t *src = a->pixels + i * (int64_t)size; // CHW -> HWC
    for (size_t p = 0; p < plane; p++)
        for (int ch = 0; ch < a->c; ch++)
            out->bytes[p * (size_t)a->c + (size_t)ch] = src[ch * plane + p];
    return 0;
}

static void array_free(void *self) {
    cg_dealloc(self);
}

static const cg_dataset_vtable array_vtable = {array_count, array_get, array_free};

static cg_dataset *array_dataset(array_set *a) {
    cg_dataset *d = cg_dataset_new(&array_vtable, a);
    if (!d) cg_dealloc(a);
    return d;
}

static bool labels_ok(const char *op, const cg_tensor *labels, int64_t n) {
    if (!labels) return true;
    if (!cg_check_arg(labels, op, "labels")) return false;
    if (labels->numel == n) return true;
    cg_error(CG_ERR_SHAPE, "%s: labels %s do not hold one label for each of %lld images", op,
             cg_tensor_shape_str(labels), (long long)n);
    return false;
}

cg_dataset *cg_tensor_dataset_new(cg_tensor *images, cg_tensor *labels) {
    const char *op = "tensor_dataset_new";
    if (!cg_check_arg(images, op, "images")) return NULL;
    if (images->ndim != 3 && images->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "%s: images must be (N,H,W) or (N,C,H,W), got %s", op,
                        cg_tensor_shape_str(images));
    if (!labels_ok(op, labels, images->shape[0])) return NULL;
    array_set *a = cg_alloc_zeroed(sizeof *a);
    if (!a) return NULL;
    int k = images->ndim == 4;
    a->images = images, a->labels = labels, a->n = images->shape[0];
    a->c = k ? (int)images->shape[1] : 1;
    a->h = (int)images->shape[1 + k], a->w = (int)images->shape[2 + k];
    return array_dataset(a);
}

cg_dataset *cg_bytes_dataset_new(const uint8_t *pixels, int64_t n, int c, int h, int w,
                                 cg_tensor *labels) {
    const char *op = "bytes_dataset_new";
    if (!pixels || n < 0 || c < 1 || h < 1 || w < 1)
        return cg_error(CG_ERR_ARG, "%s: bad byte images (pixels %s, n %lld, c %d, h %d, w %d)", op,
                        pixels ? "set" : "NULL", (long long)n, c, h, w);
    if (!labels_ok(op, labels, n)) return NULL;
    array_set *a = cg_alloc_zeroed(sizeof *a);
    if (!a) return NULL;
    a->pixels = pixels, a->labels = labels, a->n = n, a->c = c, a->h = h, a->w = w;
    return array_dataset(a);
}
