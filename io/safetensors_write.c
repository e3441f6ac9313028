// io/safetensors_write.c - writing the safetensors format (io/safetensors.h): tensors
// sorted by name, a JSON header padded to 8 bytes, then little-endian float32 data, written
// through an atomic file so a crash never leaves a half-written file in place.
#include <stdlib.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "atomic_file_internal.h"
#include "json_internal.h"
#include "safetensors.h"

// ---- writing ------------------------------------------------------------------------------------

// A growing byte buffer for the JSON header.
typedef struct text {
    char *data;
    int64_t length, cap;
    bool failed; // set by the first failed growth: nothing is written then
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->failed || cg_array_reserve(&t->data, &t->cap, t->length + (int64_t)n + 1, 1) < 0) {
        t->failed = true;
        return;
    }
    memcpy(t->data + t->length, s, n);
    t->length += (int64_t)n;
}
static void puts_(text *t, const char *s) {
    put(t, s, strlen(s));
}
static void put_int(text *t, int64_t v) {
    char buf[24];
    put(t, buf, (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v));
}

// A JSON string escaped as serde_json (and Python's json with ensure_ascii=False) does.
static void put_json_string(text *t, const char *s) {
    put(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = c == '"'    ? "\\\""
                          : c == '\\' ? "\\\\"
                          : c == '\b' ? "\\b"
                          : c == '\f' ? "\\f"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        char buf[8];
        if (esc)
            puts_(t, esc);
        else if (c < 0x20)
            put(t, buf, (size_t)snprintf(buf, sizeof buf, "\\u%04x", c));
        else
            put(t, s, 1);
    }
    put(t, "\"", 1);
}

static int compare_names(const void *a, const void *b) {
    return strcmp((*(const cg_named_tensor *const *)a)->name,
                  (*(const cg_named_tensor *const *)b)->name);
}
// Check names and tensors; fills `sorted` with pointers in name order.
static int check_tensors(const cg_tensor_list *tensors, const cg_named_tensor **sorted) {
    for (int i = 0; i < tensors->count; i++) {
        const cg_named_tensor *item = &tensors->items[i];
        if (!item->tensor) {
            cg_error(CG_ERR_ARG, "safetensors_save: tensor '%s' is NULL", item->name);
            return -1;
        }
        if (strcmp(item->name, "__metadata__") == 0) {
            cg_error(CG_ERR_ARG, "safetensors_save: '__metadata__' cannot name a tensor");
            return -1;
        }
        sorted[i] = item;
    }
    qsort(sorted, (size_t)tensors->count, sizeof *sorted, compare_names);
    for (int i = 1; i < tensors->count; i++)
        if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0) {
            cg_error(CG_ERR_ARG, "safetensors_save: two tensors are called '%s'", sorted[i]->name);
            return -1;
        }
    return 0;
}

static void build_header(text *h, int n, const cg_named_tensor *const *sorted, int n_meta,
                         const char *const *keys, const char *const *values) {
    puts_(h, "{");
    if (n_meta > 0) {
        puts_(h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) puts_(h, ",");
            put_json_string(h, keys[i]);
            puts_(h, ":");
            put_json_string(h, values[i]);
        }
        puts_(h, "}");
    }
    int64_t offset = 0;
    for (int i = 0; i < n; i++) {
        const cg_tensor *t = sorted[i]->tensor;
        if (i || n_meta > 0) puts_(h, ",");
        put_json_string(h, sorted[i]->name);
        puts_(h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d) puts_(h, ",");
            put_int(h, t->shape[d]);
        }
        puts_(h, "],\"data_offsets\":[");
        put_int(h, offset);
        puts_(h, ",");
        offset += t->numel * 4;
        put_int(h, offset);
        puts_(h, "]}");
    }
    puts_(h, "}");
    while (!h->failed && h->length % 8) puts_(h, " "); // a failed put adds nothing
}

static void write_f32_le(FILE *f, const cg_tensor *t) {
    uint8_t buf[4096];
    int64_t i = 0;
    while (i < t->numel) {
        int64_t n = t->numel - i < 1024 ? t->numel - i : 1024;
        for (int64_t k = 0; k < n; k++) {
            uint32_t bits;
            memcpy(&bits, &t->data[i + k], 4);
            for (int b = 0; b < 4; b++) buf[4 * k + b] = (uint8_t)(bits >> (8 * b));
        }
        fwrite(buf, 1, (size_t)(4 * n), f);
        i += n;
    }
}

int cg_safetensors_save(const char *path, const cg_tensor_list *tensors, int n_meta,
                        const char *const *meta_keys, const char *const *meta_values) {
    const char *bad = !path                                        ? "path is NULL"
                      : !tensors                                   ? "tensors is NULL"
                      : n_meta < 0                                 ? "n_meta is negative"
                      : n_meta > 0 && (!meta_keys || !meta_values) ? "metadata arrays are NULL"
                                                                   : NULL;
    if (bad) {
        cg_error(CG_ERR_ARG, "safetensors_save: %s (n_meta %d)", bad, n_meta);
        return -1;
    }
    int n = tensors->count;
    const cg_named_tensor **sorted = cg_alloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    // Metadata keys sorted, values following their keys: index pairs.
    const char **pairs = cg_alloc((size_t)(2 * n_meta + 1) * sizeof *pairs);
    text header = {0};
    int rc = -1;
    if (!sorted || !pairs || check_tensors(tensors, sorted) != 0) goto done;
    for (int i = 0; i < n_meta; i++) {
        if (!meta_keys[i] || !meta_values[i]) {
            cg_error(CG_ERR_ARG, "safetensors_save: metadata entry %d is NULL", i);
            goto done;
        }
        pairs[2 * i] = meta_keys[i];
        pairs[2 * i + 1] = meta_values[i];
    }
    qsort(pairs, (size_t)n_meta, 2 * sizeof *pairs, cg_compare_strings);
    const char **keys = cg_alloc((size_t)(n_meta + 1) * sizeof *keys);
    const char **values = cg_alloc((size_t)(n_meta + 1) * sizeof *values);
    if (keys && values) {
        for (int i = 0; i < n_meta; i++) keys[i] = pairs[2 * i], values[i] = pairs[2 * i + 1];
        for (int i = 1; i < n_meta; i++)
            if (strcmp(keys[i], keys[i - 1]) == 0) {
                cg_error(CG_ERR_ARG, "safetensors_save: metadata key '%s' given twice", keys[i]);
                header.failed = true;
            }
        if (!header.failed) build_header(&header, n, sorted, n_meta, keys, values);
    }
    cg_dealloc(keys);
    cg_dealloc(values);
    if (!keys || !values || header.failed) goto done;

    cg_atomic_file af;
    if (cg_atomic_open(&af, path, "safetensors_save") != 0) goto done;
    uint8_t len[8];
    for (int b = 0; b < 8; b++) len[b] = (uint8_t)((uint64_t)header.length >> (8 * b));
    fwrite(len, 1, 8, af.f);
    fwrite(header.data, 1, header.length, af.f);
    for (int i = 0; i < n; i++) write_f32_le(af.f, sorted[i]->tensor);
    rc = cg_atomic_commit(&af);
done:
    cg_dealloc(sorted);
    cg_dealloc(pairs);
    cg_dealloc(header.data);
    return rc;
}
