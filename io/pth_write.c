// io/pth_write.c - writing a state dict as torch.save does (io/pth.h): the protocol-2
// pickle of an OrderedDict of _rebuild_tensor_v2 calls (only opcodes torch.load's
// weights_only unpickler accepts), then a stored zip (io/pth_zip.c) with its storages.
#include <stdio.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/error.h"
#include "pth.h"
#include "pth_internal.h"

typedef struct bytes {
    uint8_t *data;
    int64_t size, capacity;
    bool failed;
} bytes;

static void emit(bytes *b, const void *p, int64_t n) {
    if (b->failed || cg_array_reserve(&b->data, &b->capacity, b->size + n, 1) < 0) {
        b->failed = true;
        return;
    }
    memcpy(b->data + b->size, p, (size_t)n);
    b->size += n;
}

static void op(bytes *b, const char *ops) {
    emit(b, ops, (int64_t)strlen(ops));
}

static void emit_int(bytes *b, int64_t v) {
    uint8_t buf[9];
    int n = v >= INT32_MIN && v <= INT32_MAX ? 4 : 8;
    for (int i = 0; i < n; i++) buf[i + (n == 8)] = (uint8_t)((uint64_t)v >> (8 * i));
    if (n == 8) { // LONG1 with 8 bytes
        emit(b, "\x8a\x08", 2);
        emit(b, buf + 1, 8);
        return;
    }
    op(b, "J");
    emit(b, buf, 4);
}

static void emit_str(bytes *b, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    uint8_t len[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    op(b, "X");
    emit(b, len, 4);
    emit(b, s, n);
}

static bool is_long(const char *name) {
    size_t n = strlen(name), k = strlen("num_batches_tracked");
    return n >= k && !strcmp(name + n - k, "num_batches_tracked");
}

// _rebuild_tensor_v2(('storage', torch.FloatStorage, key, 'cpu', numel), 0, size,
// contiguous stride, False, OrderedDict())
static void emit_tensor(bytes *b, const cg_tensor *t, const char *key, bool long_storage) {
    op(b, "ctorch._utils\n_rebuild_tensor_v2\n((");
    emit_str(b, "storage");
    op(b, long_storage ? "ctorch\nLongStorage\n" : "ctorch\nFloatStorage\n");
    emit_str(b, key);
    emit_str(b, "cpu");
    emit_int(b, t->numel);
    op(b, "tQ");
    emit_int(b, 0);
    op(b, "(");
    for (int d = 0; d < t->ndim; d++) emit_int(b, t->shape[d]);
    op(b, "t(");
    int64_t stride = 1, strides[CG_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) strides[d] = stride, stride *= t->shape[d];
    for (int d = 0; d < t->ndim; d++) emit_int(b, strides[d]);
    op(b, "t\x89"
          "ccollections\nOrderedDict\n)RtR");
}

int cg_pth_pickle(const cg_tensor_list *tensors, uint8_t **out, int64_t *size) {
    bytes b = {0};
    op(&b, "\x80\x02"
           "ccollections\nOrderedDict\n)R(");
    for (int i = 0; i < tensors->count; i++) {
        char key[24];
        snprintf(key, sizeof key, "%d", i);
        emit_str(&b, tensors->items[i].name);
        emit_tensor(&b, tensors->items[i].tensor, key, is_long(tensors->items[i].name));
    }
    op(&b, "u.");
    if (b.failed) return cg_dealloc(b.data), -1;
    *out = b.data, *size = b.size;
    return 0;
}

// A tensor's storage bytes: float32, or int64 for long storages, little-endian.
static uint8_t *storage_bytes(const cg_tensor *t, bool long_storage, int64_t *size) {
    int width = long_storage ? 8 : 4;
    *size = t->numel * width;
    uint8_t *out = cg_alloc((size_t)(*size > 0 ? *size : 1));
    for (int64_t k = 0; out && k < t->numel; k++) {
        uint64_t bits = 0;
        uint32_t f;
        if (long_storage) {
            bits = (uint64_t)(int64_t)t->data[k];
        } else {
            memcpy(&f, &t->data[k], 4);
            bits = f;
        }
        for (int i = 0; i < width; i++) out[k * width + i] = (uint8_t)(bits >> (8 * i));
    }
    return out;
}

int cg_pth_save(const char *path, const cg_tensor_list *tensors) {
    if (!tensors || tensors->count < 0 || (tensors->count && !tensors->items)) {
        cg_error(CG_ERR_ARG, "pth_save: tensors is NULL or invalid");
        return -1;
    }
    for (int i = 0; i < tensors->count; i++)
        if (!cg_check_arg(tensors->items[i].tensor, "pth_save", "tensors")) return -1;
    cg_zip_writer w;
    if (cg_zip_writer_open(&w, path, "pth_save") != 0) return -1;
    uint8_t *pickle = NULL;
    int64_t size = 0;
    if (cg_pth_pickle(tensors, &pickle, &size) != 0)
        w.file.failed = true;
    else
        cg_zip_writer_add(&w, "archive/data.pkl", pickle, size);
    cg_dealloc(pickle);
    cg_zip_writer_add(&w, "archive/byteorder", "little", 6);
    for (int i = 0; i < tensors->count && !w.file.failed; i++) {
        char name[48];
        snprintf(name, sizeof name, "archive/data/%d", i);
        bool long_storage = is_long(tensors->items[i].name);
        uint8_t *data = storage_bytes(tensors->items[i].tensor, long_storage, &size);
        if (!data)
            w.file.failed = true;
        else
            cg_zip_writer_add(&w, name, data, size);
        cg_dealloc(data);
    }
    cg_zip_writer_add(&w, "archive/version", "3\n", 2);
    return cg_zip_writer_finish(&w);
}
