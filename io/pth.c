// io/pth.c - .pth state dicts (io/pth.h): the zip (io/pth_zip.c) and pickle (io/pickle.c)
// of a file turned into float32 tensors, and cgrad modules loaded from them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/checked.h"
#include "checkpoint_internal.h"
#include "pth.h"
#include "pth_internal.h"

typedef struct storage_cache {
    const char *key;
    uint8_t *bytes;
} storage_cache;

typedef struct reader {
    const char *path;
    cg_zip zip;
    char prefix[256]; // "<archive name>/"
    bool big_endian;
    storage_cache *cache;
    int64_t n_cache, cache_capacity;
} reader;

static int refuse(const char *path, const char *what) {
    cg_error(CG_ERR_FORMAT, "pth: %s: %s", path, what);
    return -1;
}

// Files that are not the zip format, told apart by their first bytes.
static int check_magic(const char *path) {
    uint8_t head[262] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0; // cg_zip_open reports it
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 4 && !memcmp(head, "PK\3\4", 4)) return 0;
    if (n >= 2 && head[0] == 0x80 && head[1] <= 5)
        return refuse(path, "the legacy pre-1.6 format (a bare pickle; torch.save with "
                            "_use_new_zipfile_serialization=False): load it with torch and "
                            "torch.save it again with torch >= 1.6");
    if (n == sizeof head && !memcmp(head + 257, "ustar", 5))
        return refuse(path, "the legacy tar format of torch < 0.4: re-save it with torch >= 1.6");
    return 0; // not a zip: cg_zip_open says so
}

// The archive's "<name>/data.pkl" and "<name>/byteorder".
static int find_records(reader *r, const cg_zip_entry **pickle) {
    *pickle = NULL;
    for (int64_t i = 0; i < r->zip.count && !*pickle; i++) {
        const char *name = r->zip.entries[i].name, *slash = strchr(name, '/');
        if (slash && !strcmp(slash, "/data.pkl") && (size_t)(slash - name) + 2 < sizeof r->prefix) {
            memcpy(r->prefix, name, (size_t)(slash - name) + 1);
            r->prefix[slash - name + 1] = 0;
            *pickle = &r->zip.entries[i];
        }
    }
    char name[320];
    snprintf(name, sizeof name, "%sconstants.pkl", r->prefix);
    if (*pickle && cg_zip_find(&r->zip, name))
        return refuse(r->path, "a TorchScript archive (torch.jit.save), not a state_dict");
    if (!*pickle)
        return refuse(r->path, "a zip file without '<name>/data.pkl': not a torch.save file");
    snprintf(name, sizeof name, "%sbyteorder", r->prefix);
    const cg_zip_entry *order = cg_zip_find(&r->zip, name);
    if (!order) return 0;
    int64_t n = 0;
    uint8_t *text = cg_zip_read(&r->zip, order, &n);
    if (!text) return -1;
    bool little = n == 6 && !memcmp(text, "little", 6), big = n == 3 && !memcmp(text, "big", 3);
    cg_dealloc(text);
    r->big_endian = big;
    return little || big ? 0 : refuse(r->path, "byteorder record is neither 'little' nor 'big'");
}

// A storage's bytes (read once, byte-swapped to little-endian), checked to hold numel elements.
static const uint8_t *storage_bytes(reader *r, const cg_pk_value *s, const char *tensor) {
    for (int64_t i = 0; i < r->n_cache; i++)
        if (!strcmp(r->cache[i].key, s->s)) return r->cache[i].bytes;
    char name[512];
    snprintf(name, sizeof name, "%sdata/%s", r->prefix, s->s);
    const cg_zip_entry *e = cg_zip_find(&r->zip, name);
    int size = cg_pk_dtypes[s->id].size;
    if (!e || e->size != s->i * size) {
        cg_error(CG_ERR_FORMAT, "pth: %s: tensor '%s': storage record '%s' %s %lld %s elements",
                 r->path, tensor, name, e ? "does not hold" : "is missing; expected",
                 (long long)s->i, cg_pk_dtypes[s->id].storage);
        return NULL;
    }
    int64_t n = 0;
    uint8_t *bytes = cg_zip_read(&r->zip, e, &n);
    if (!bytes) return NULL;
    for (int64_t k = 0; r->big_endian && k < n; k += size)
        for (int a = 0, b = size - 1; a < b; a++, b--) {
            uint8_t t = bytes[k + a];
            bytes[k + a] = bytes[k + b], bytes[k + b] = t;
        }
    if (CG_ARRAY_PUSH(r->cache, r->n_cache, r->cache_capacity, ((storage_cache){s->s, bytes})) < 0)
        return cg_dealloc(bytes), NULL;
    return bytes;
}

// The view (offset, size, stride) must stay inside its storage; its last element is
// offset + sum((size - 1) * stride), computed without overflow.
static int check_view(const reader *r, const cg_pk_value *t, const char *name, int64_t *numel) {
    int64_t last = t->i, step;
    bool bad = !cg_checked_numel(t->ndim, t->shape, numel);
    for (int d = 0; d < t->ndim && !bad && *numel > 0; d++)
        bad = cg_mul_overflows(t->shape[d] - 1, t->stride[d], &step) ||
              __builtin_add_overflow(last, step, &last);
    if (!bad && (*numel == 0 || last < t->storage->i)) return 0;
    cg_error(CG_ERR_FORMAT,
             "pth: %s: tensor '%s' of size %s (offset %lld) does not fit its storage of %lld "
             "elements",
             r->path, name, cg_shape_str(t->ndim, t->shape), (long long)t->i,
             (long long)t->storage->i);
    return -1;
}

static cg_tensor *read_tensor(reader *r, const cg_pk_value *t, const char *name) {
    int64_t numel = 0, index[CG_MAX_DIMS] = {0};
    int size = 0;
    if (check_view(r, t, name, &numel) != 0) return NULL;
    cg_dtype_convert convert =
        cg_safetensors_dtype(cg_pk_dtypes[t->storage->id].safetensors, &size);
    const uint8_t *bytes = storage_bytes(r, t->storage, name);
    cg_tensor *out = bytes ? cg_empty_unscoped(t->ndim, t->shape) : NULL;
    if (!out) return NULL;
    int64_t at = t->i; // storage index of the element at `index`
    for (int64_t k = 0; k < numel; k++) {
        out->data[k] = convert(bytes + at * size);
        for (int d = t->ndim - 1; d >= 0; d--) { // next index, row-major
            at += t->stride[d];
            if (++index[d] < t->shape[d]) break;
            at -= t->stride[d] * t->shape[d], index[d] = 0;
        }
    }
    return out;
}

// Some keys of dict d, for messages: "epoch, model, optimizer".
static void list_keys(const cg_pk_value *d, char *out, size_t cap) {
    size_t used = 0;
    out[0] = 0;
    for (int64_t i = 0; i < d->n && used + 8 < cap; i += 2) {
        const cg_pk_value *k = d->items[i];
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "",
                         k->kind == CG_PK_STR ? k->s : "(not a string)");
        used += n > 0 ? (size_t)n : 0;
    }
    if (used >= cap - 8) snprintf(out + cap - 5, 5, "...");
}

// Follow key_path ("state_dict.model") from the root to the state dict.
static const cg_pk_value *select_dict(const reader *r, const cg_pk_value *v, const char *key_path) {
    char path[512], keys[200], message[800];
    snprintf(path, sizeof path, "%s", key_path ? key_path : "");
    for (char *step = path[0] ? path : NULL, *next; step; step = next) {
        next = strchr(step, '.');
        if (next) *next++ = 0;
        const cg_pk_value *child = cg_pk_dict_get(v, step);
        if (!child) {
            if (v->kind == CG_PK_DICT) list_keys(v, keys, sizeof keys);
            snprintf(message, sizeof message, "key path '%s': no key '%s' (%s%s)", key_path, step,
                     v->kind == CG_PK_DICT ? "keys: " : "not a dict",
                     v->kind == CG_PK_DICT ? keys : "");
            return refuse(r->path, message), NULL;
        }
        v = child;
    }
    if (v->kind != CG_PK_DICT)
        return refuse(r->path, "holds no dict of tensors (not a state_dict)"), NULL;
    for (int64_t i = 0; i < v->n; i += 2) {
        if (v->items[i]->kind == CG_PK_STR && v->items[i + 1]->kind == CG_PK_TENSOR) continue;
        list_keys(v, keys, sizeof keys);
        snprintf(message, sizeof message,
                 "%s%s%s is a dict of more than tensors (a training checkpoint? keys: %s): give "
                 "the key path of the state_dict in it, e.g. \"model\"",
                 key_path && *key_path ? "'" : "",
                 key_path && *key_path ? key_path : "the top level",
                 key_path && *key_path ? "'" : "", keys);
        return refuse(r->path, message), NULL;
    }
    return v;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(((const cg_named_tensor *)a)->name, ((const cg_named_tensor *)b)->name);
}

// The tensors of dict d into out, names unique and short enough.
static int read_tensors(reader *r, const cg_pk_value *d, cg_tensor_list *out) {
    int64_t n = d->n / 2;
    if (n > INT32_MAX - 1) return refuse(r->path, "too many tensors");
    out->items = cg_alloc_zeroed((size_t)(n > 0 ? n : 1) * sizeof *out->items);
    if (!out->items) return -1;
    for (int64_t i = 0; i < n; i++) {
        const char *name = d->items[2 * i]->s;
        if (strlen(name) >= CG_NAME_MAX) {
            cg_error(CG_ERR_FORMAT, "pth: %s: tensor name '%.40s...' is longer than %d bytes",
                     r->path, name, CG_NAME_MAX - 1);
            return -1;
        }
        cg_tensor *t = read_tensor(r, d->items[2 * i + 1], name);
        if (!t) return -1;
        strcpy(out->items[out->count].name, name);
        out->items[out->count++].tensor = t;
    }
    cg_named_tensor *sorted = cg_alloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted) return -1;
    memcpy(sorted, out->items, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_names);
    int rc = 0;
    for (int64_t i = 1; i < n && rc == 0; i++)
        if (!strcmp(sorted[i].name, sorted[i - 1].name)) {
            cg_error(CG_ERR_FORMAT, "pth: %s: two tensors are called '%s'", r->path,
                     sorted[i].name);
            rc = -1;
        }
    cg_dealloc(sorted);
    return rc;
}

int cg_pth_load(const char *path, const char *key_path, cg_tensor_list *out) {
    if (!out) {
        cg_error(CG_ERR_ARG, "pth_load: out is NULL");
        return -1;
    }
    *out = (cg_tensor_list){0, NULL};
    if (!path) {
        cg_error(CG_ERR_ARG, "pth_load: path is NULL");
        return -1;
    }
    cg_atomic_remove_stale(path); // temporary files of killed saves (atomic_file_internal.h)
    if (check_magic(path) != 0) return -1;
    reader r = {.path = path};
    if (cg_zip_open(&r.zip, path) != 0) return -1;
    const cg_zip_entry *entry = NULL;
    const cg_pk_value *dict = NULL;
    cg_pickle pickle = {0};
    uint8_t *bytes = NULL;
    int64_t n = 0;
    int rc = find_records(&r, &entry);
    if (rc == 0 && !(bytes = cg_zip_read(&r.zip, entry, &n))) rc = -1;
    if (rc == 0) rc = cg_pickle_load(&pickle, path, bytes, n);
    if (rc == 0 && !(dict = select_dict(&r, pickle.root, key_path))) rc = -1;
    if (rc == 0) rc = read_tensors(&r, dict, out);
    if (rc != 0) cg_pth_free(out);
    for (int64_t i = 0; i < r.n_cache; i++) cg_dealloc(r.cache[i].bytes);
    cg_dealloc(r.cache);
    cg_pickle_free(&pickle);
    cg_dealloc(bytes);
    cg_zip_close(&r.zip);
    return rc;
}

void cg_pth_free(cg_tensor_list *list) {
    if (!list) return;
    for (int i = 0; i < list->count; i++) cg_free(list->items[i].tensor);
    cg_tensor_list_free(list);
}

int cg_module_load_pth(const char *path, cg_module *m, const cg_load_options *options,
                       cg_load_report *report) {
    if (report) *report = (cg_load_report){0, 0, NULL, NULL};
    if (!m) {
        cg_error(CG_ERR_ARG, "module_load_pth: module is NULL");
        return -1;
    }
    cg_tensor_list file;
    if (cg_pth_load(path, options ? options->key_path : NULL, &file) != 0) return -1;
    int rc = cg_module_load_tensors("module_load_pth", path, m, &file, options, report);
    cg_pth_free(&file);
    return rc;
}

int cg_module_save_pth(const char *path, const cg_module *m) {
    if (!m) {
        cg_error(CG_ERR_ARG, "module_save_pth: module is NULL");
        return -1;
    }
    cg_tensor_list sd = cg_module_state_dict(m);
    if (sd.count < 0) return -1;
    int rc = cg_pth_save(path, &sd);
    cg_tensor_list_free(&sd);
    return rc;
}
