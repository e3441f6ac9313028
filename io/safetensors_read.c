// io/safetensors_read.c - reading the safetensors format (io/safetensors.h): every dtype
// converted to float32, the header parsed and its layout checked before any data is read.
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "atomic_file_internal.h"
#include "safetensors.h"
#include "json_internal.h"
#include "pth_internal.h"

#define META_VALUE_MAX 4096

// ---- dtypes -----------------------------------------------------------------------------------

static uint64_t load_le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static float bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
    if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (mant << 13)); // inf, nan
    if (exp == 0) { // zero or subnormal: mant * 2^-24
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return bits_to_float(sign | ((exp + 112) << 23) | (mant << 13));
}

static float convert_f32(const uint8_t *p) {
    return bits_to_float((uint32_t)load_le(p, 4));
}
static float convert_f64(const uint8_t *p) {
    uint64_t bits = load_le(p, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return (float)d;
}
static float convert_f16(const uint8_t *p) {
    return half_to_float((uint16_t)load_le(p, 2));
}
static float convert_bf16(const uint8_t *p) {
    return bits_to_float((uint32_t)load_le(p, 2) << 16);
}
static float convert_i64(const uint8_t *p) {
    return (float)(int64_t)load_le(p, 8);
}
static float convert_i32(const uint8_t *p) {
    return (float)(int32_t)load_le(p, 4);
}
static float convert_i16(const uint8_t *p) {
    return (float)(int16_t)load_le(p, 2);
}
static float convert_i8(const uint8_t *p) {
    return (float)(int8_t)p[0];
}
static float convert_u8(const uint8_t *p) {
    return (float)p[0];
}
static float convert_bool(const uint8_t *p) {
    return p[0] ? 1.0f : 0.0f;
}

typedef struct dtype_info {
    const char *name;
    int size;
    float (*convert)(const uint8_t *p);
} dtype_info;
static const dtype_info dtypes[] = {
    {"F32", 4, convert_f32},   {"F64", 8, convert_f64}, {"F16", 2, convert_f16},
    {"BF16", 2, convert_bf16}, {"I64", 8, convert_i64}, {"I32", 4, convert_i32},
    {"I16", 2, convert_i16},   {"I8", 1, convert_i8},   {"U8", 1, convert_u8},
    {"BOOL", 1, convert_bool},
};

static const dtype_info *find_dtype(const char *name) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0) return &dtypes[i];
    return NULL;
}

cg_dtype_convert cg_safetensors_dtype(const char *name, int *size) {
    const dtype_info *d = find_dtype(name);
    if (d) *size = d->size;
    return d ? d->convert : NULL;
}

// ---- reading ------------------------------------------------------------------------------------

typedef struct entry {
    char name[CG_NAME_MAX];
    const dtype_info *dtype;
    int ndim;
    int64_t shape[CG_MAX_DIMS];
    int64_t begin, end;
} entry;

typedef struct parsed {
    entry *entries;
    int count;
    int64_t entries_cap;
    bool has_metadata;
    char **keys, **values; // n_meta each, grown together
    int n_meta;
    int64_t keys_cap, values_cap;
} parsed;

static void parsed_free(parsed *p) {
    for (int i = 0; i < p->n_meta; i++) cg_dealloc(p->keys[i]), cg_dealloc(p->values[i]);
    cg_dealloc(p->keys);
    cg_dealloc(p->values);
    cg_dealloc(p->entries);
    memset(p, 0, sizeof *p);
}

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = cg_alloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

// "__metadata__": {"key": "value", ...}
static bool parse_metadata(cg_json_reader *r, parsed *p) {
    if (p->has_metadata) return cg_json_fail(r, "two __metadata__ entries");
    p->has_metadata = true;
    if (!cg_json_expect(r, '{')) return false;
    if (cg_json_accept(r, '}')) return true;
    char key[META_VALUE_MAX], value[META_VALUE_MAX];
    do {
        if (!cg_json_string(r, key, sizeof key) || !cg_json_expect(r, ':') ||
            !cg_json_string(r, value, sizeof value))
            return false;
        if (cg_array_reserve(&p->keys, &p->keys_cap, p->n_meta + 1, sizeof *p->keys) < 0 ||
            cg_array_reserve(&p->values, &p->values_cap, p->n_meta + 1, sizeof *p->values) < 0)
            return cg_json_fail(r, "out of memory");
        char *k = copy_string(key), *v = copy_string(value);
        if (!k || !v) return cg_dealloc(k), cg_dealloc(v), cg_json_fail(r, "out of memory");
        p->keys[p->n_meta] = k, p->values[p->n_meta++] = v;
    } while (cg_json_accept(r, ','));
    return cg_json_expect(r, '}');
}

// [a, b, ...] of non-negative integers into out (at most max).
static bool parse_uint_array(cg_json_reader *r, int64_t *out, int max, int *count,
                             const char *what) {
    *count = 0;
    if (!cg_json_expect(r, '[')) return false;
    if (cg_json_accept(r, ']')) return true;
    do {
        if (*count == max) return cg_json_fail(r, "%s has more than %d entries", what, max);
        if (!cg_json_uint(r, &out[(*count)++])) return false;
    } while (cg_json_accept(r, ','));
    return cg_json_expect(r, ']');
}

// {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} in any key order.
static bool parse_tensor_info(cg_json_reader *r, entry *e) {
    bool seen[3] = {false, false, false};
    char key[32], dtype[16];
    if (!cg_json_expect(r, '{')) return false;
    do {
        if (!cg_json_string(r, key, sizeof key) || !cg_json_expect(r, ':')) return false;
        int which = strcmp(key, "dtype") == 0          ? 0
                    : strcmp(key, "shape") == 0        ? 1
                    : strcmp(key, "data_offsets") == 0 ? 2
                                                       : -1;
        if (which < 0) return cg_json_fail(r, "unknown key '%s' in tensor '%s'", key, e->name);
        if (seen[which]) return cg_json_fail(r, "key '%s' twice in tensor '%s'", key, e->name);
        seen[which] = true;
        if (which == 0) {
            if (!cg_json_string(r, dtype, sizeof dtype)) return false;
            e->dtype = find_dtype(dtype);
            if (!e->dtype)
                return cg_json_fail(r, "tensor '%s' has unsupported dtype '%s'", e->name, dtype);
        } else if (which == 1) {
            if (!parse_uint_array(r, e->shape, CG_MAX_DIMS, &e->ndim, "shape")) return false;
        } else {
            int64_t offsets[2];
            int n;
            if (!parse_uint_array(r, offsets, 2, &n, "data_offsets")) return false;
            if (n != 2)
                return cg_json_fail(r, "data_offsets of '%s' must be [begin, end]", e->name);
            e->begin = offsets[0], e->end = offsets[1];
        }
    } while (cg_json_accept(r, ','));
    if (!cg_json_expect(r, '}')) return false;
    if (!seen[0] || !seen[1] || !seen[2])
        return cg_json_fail(r, "tensor '%s' lacks %s", e->name,
                            !seen[0]   ? "dtype"
                            : !seen[1] ? "shape"
                                       : "data_offsets");
    return true;
}

static entry *new_entry(cg_json_reader *r, parsed *p) {
    if (cg_array_reserve(&p->entries, &p->entries_cap, (int64_t)p->count + 1, sizeof *p->entries) <
        0)
        return cg_json_fail(r, "out of memory"), NULL;
    entry *e = &p->entries[p->count++];
    memset(e, 0, sizeof *e);
    return e;
}

static bool parse_header(cg_json_reader *r, parsed *p) {
    char name[CG_NAME_MAX];
    if (!cg_json_expect(r, '{')) return false;
    if (!cg_json_accept(r, '}')) {
        do {
            if (!cg_json_string(r, name, sizeof name) || !cg_json_expect(r, ':')) return false;
            if (strcmp(name, "__metadata__") == 0) {
                if (!parse_metadata(r, p)) return false;
                continue;
            }
            entry *e = new_entry(r, p);
            if (!e) return false;
            memcpy(e->name, name, sizeof name);
            if (!parse_tensor_info(r, e)) return false;
        } while (cg_json_accept(r, ','));
        if (!cg_json_expect(r, '}')) return false;
    }
    if (!cg_json_at_end(r)) return cg_json_fail(r, "unexpected bytes after the JSON object");
    return true;
}

static int compare_begin(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return x->begin < y->begin   ? -1
           : x->begin > y->begin ? 1
                                 : (x->end > y->end) - (x->end < y->end);
}

static int compare_entry_names(const void *a, const void *b) {
    return strcmp((*(const entry *const *)a)->name, (*(const entry *const *)b)->name);
}

// A metadata key given twice (sorted copy of the key pointers, neighbours compared).
static int duplicate_meta_key(const char *path, const parsed *p) {
    if (p->n_meta < 2) return 0;
    char **keys = cg_alloc((size_t)p->n_meta * sizeof *keys);
    if (!keys) return -1;
    memcpy(keys, p->keys, (size_t)p->n_meta * sizeof *keys);
    qsort(keys, (size_t)p->n_meta, sizeof *keys, cg_compare_strings);
    int rc = 0;
    for (int i = 1; i < p->n_meta && rc == 0; i++)
        if (strcmp(keys[i], keys[i - 1]) == 0) {
            cg_error(CG_ERR_FORMAT, "safetensors: %s: bad JSON header: metadata key '%s' twice",
                     path, keys[i]);
            rc = -1;
        }
    cg_dealloc(keys);
    return rc;
}

// Names unique, byte counts = numel * dtype size, offsets tiling [0, data_length) exactly.
// Fills `order` with the entries sorted by offset.
static int check_layout(const char *path, parsed *p, int64_t data_length, entry **order) {
    for (int i = 0; i < p->count; i++) {
        entry *e = &p->entries[i];
        order[i] = e;
        int64_t numel = 1;
        for (int d = 0; d < e->ndim; d++) {
            if (e->shape[d] > 0 && numel > data_length / e->shape[d]) {
                cg_error(CG_ERR_FORMAT,
                         "safetensors: %s: tensor '%s' shape %s is larger than the file", path,
                         e->name, cg_shape_str(e->ndim, e->shape));
                return -1;
            }
            numel *= e->shape[d];
        }
        if (e->end < e->begin || e->end - e->begin != numel * e->dtype->size) {
            cg_error(CG_ERR_FORMAT,
                     "safetensors: %s: tensor '%s': data_offsets [%lld, %lld] do not hold %s %s "
                     "(%lld bytes)",
                     path, e->name, (long long)e->begin, (long long)e->end, e->dtype->name,
                     cg_shape_str(e->ndim, e->shape), (long long)(numel * e->dtype->size));
            return -1;
        }
    }
    // Duplicates are neighbours in name order: n log n (a pairwise check took hours on a
    // 100 MB header of small tensors).
    qsort(order, (size_t)p->count, sizeof *order, compare_entry_names);
    for (int i = 1; i < p->count; i++)
        if (strcmp(order[i]->name, order[i - 1]->name) == 0) {
            cg_error(CG_ERR_FORMAT, "safetensors: %s: two tensors are called '%s'", path,
                     order[i]->name);
            return -1;
        }
    if (duplicate_meta_key(path, p) != 0) return -1;
    qsort(order, (size_t)p->count, sizeof *order, compare_begin);
    int64_t expected = 0;
    for (int i = 0; i < p->count; i++) {
        if (order[i]->begin != expected) {
            cg_error(CG_ERR_FORMAT,
                     "safetensors: %s: tensor '%s' starts at byte %lld of the data, expected %lld "
                     "(offsets must be contiguous)",
                     path, order[i]->name, (long long)order[i]->begin, (long long)expected);
            return -1;
        }
        expected = order[i]->end;
    }
    if (expected != data_length) {
        cg_error(CG_ERR_FORMAT,
                 "safetensors: %s: the tensors end at byte %lld of the data but the file holds "
                 "%lld data bytes (%s)",
                 path, (long long)expected, (long long)data_length,
                 expected > data_length ? "truncated or offsets out of range" : "trailing bytes");
        return -1;
    }
    return 0;
}

// Header length and header text; returns the header (cg_alloc'd) or NULL.
static char *read_header(FILE *f, const char *path, int64_t file_size, int64_t *header_length) {
    uint8_t len[8];
    if (file_size < 8 || fread(len, 1, 8, f) != 8) {
        cg_error(CG_ERR_FORMAT,
                 "safetensors: %s: %lld bytes, shorter than the 8-byte header length", path,
                 (long long)file_size);
        return NULL;
    }
    uint64_t n = load_le(len, 8);
    if (n > (uint64_t)(file_size - 8) || n > CG_SAFETENSORS_MAX_HEADER || n < 2) {
        cg_error(CG_ERR_FORMAT,
                 "safetensors: %s: header length %llu is impossible for a file of %lld bytes "
                 "(not a safetensors file, or truncated)",
                 path, (unsigned long long)n, (long long)file_size);
        return NULL;
    }
    char *header = cg_alloc((size_t)n);
    if (header && fread(header, 1, (size_t)n, f) != (size_t)n) {
        cg_error(CG_ERR_IO, "safetensors: %s: read failed: %s", path, strerror(errno));
        cg_dealloc(header);
        return NULL;
    }
    *header_length = (int64_t)n;
    return header;
}

static int convert_tensors(const char *path, entry **order, int count, const uint8_t *data,
                           cg_safetensors *out) {
    out->tensors.items = cg_alloc_zeroed((size_t)(count > 0 ? count : 1) * sizeof(cg_named_tensor));
    if (!out->tensors.items) return -1;
    for (int i = 0; i < count; i++) {
        entry *e = order[i];
        cg_tensor *t = cg_empty_unscoped(e->ndim, e->shape);
        if (!t) return -1;
        const uint8_t *src = data + e->begin;
        for (int64_t k = 0; k < t->numel; k++)
            t->data[k] = e->dtype->convert(src + k * e->dtype->size);
        memcpy(out->tensors.items[i].name, e->name, CG_NAME_MAX);
        out->tensors.items[i].tensor = t;
        out->tensors.count++;
    }
    (void)path;
    return 0;
}

// fopen for reading that refuses what is not a regular file: fopen succeeds on a directory
// on Linux, which then read as "4096 bytes, shorter than the header".
static FILE *open_regular(const char *path, struct stat *st) {
    FILE *f = fopen(path, "rb");
    const char *why = NULL;
    if (!f || fstat(fileno(f), st) != 0)
        why = strerror(errno);
    else if (S_ISDIR(st->st_mode))
        why = "is a directory";
    else if (!S_ISREG(st->st_mode))
        why = "not a regular file";
    if (!why) return f;
    cg_error(CG_ERR_IO, "safetensors: cannot open %s: %s", path, why);
    if (f) fclose(f);
    return NULL;
}

int cg_safetensors_load(const char *path, cg_safetensors *out) {
    if (!out) {
        cg_error(CG_ERR_ARG, "safetensors: out is NULL");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (!path) {
        cg_error(CG_ERR_ARG, "safetensors: path is NULL");
        return -1;
    }
    cg_atomic_remove_stale(path); // temporary files of killed saves (atomic_file_internal.h)
    struct stat st;
    FILE *f = open_regular(path, &st);
    if (!f) return -1;
    int64_t header_length = 0, file_size = st.st_size;
    parsed p = {0};
    entry **order = NULL;
    uint8_t *data = NULL;
    int rc = -1;
    char *header = read_header(f, path, file_size, &header_length);
    if (!header) goto done;
    cg_json_reader r;
    cg_json_init(&r, header, (size_t)header_length);
    if (!parse_header(&r, &p)) {
        cg_error(CG_ERR_FORMAT, "safetensors: %s: bad JSON header: %s", path, r.error);
        goto done;
    }
    int64_t data_length = file_size - 8 - header_length;
    order = cg_alloc((size_t)(p.count > 0 ? p.count : 1) * sizeof *order);
    if (!order || check_layout(path, &p, data_length, order) != 0) goto done;
    data = cg_alloc((size_t)(data_length > 0 ? data_length : 1));
    if (!data) goto done;
    if ((int64_t)fread(data, 1, (size_t)data_length, f) != data_length) {
        cg_error(CG_ERR_IO, "safetensors: %s: read failed (file changed while reading?)", path);
        goto done;
    }
    if (convert_tensors(path, order, p.count, data, out) != 0) goto done;
    out->n_meta = p.n_meta;
    out->meta_keys = p.keys;
    out->meta_values = p.values;
    p.keys = p.values = NULL;
    p.n_meta = 0;
    rc = 0;
done:
    fclose(f);
    cg_dealloc(header);
    cg_dealloc(order);
    cg_dealloc(data);
    parsed_free(&p);
    if (rc != 0) cg_safetensors_free(out);
    return rc;
}

void cg_safetensors_free(cg_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->tensors.count; i++) cg_free(st->tensors.items[i].tensor);
    cg_tensor_list_free(&st->tensors);
    for (int i = 0; i < st->n_meta; i++)
        cg_dealloc(st->meta_keys[i]), cg_dealloc(st->meta_values[i]);
    cg_dealloc(st->meta_keys);
    cg_dealloc(st->meta_values);
    memset(st, 0, sizeof *st);
}

cg_tensor *cg_safetensors_find(const cg_safetensors *st, const char *name) {
    if (!cg_check_ptr(st, "safetensors_find", "st") ||
        !cg_check_ptr(name, "safetensors_find", "name"))
        return NULL;
    for (int i = 0; i < st->tensors.count; i++)
        if (strcmp(st->tensors.items[i].name, name) == 0) return st->tensors.items[i].tensor;
    return NULL;
}

const char *cg_safetensors_meta(const cg_safetensors *st, const char *key) {
    if (!cg_check_ptr(st, "safetensors_meta", "st") ||
        !cg_check_ptr(key, "safetensors_meta", "key"))
        return NULL;
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}
