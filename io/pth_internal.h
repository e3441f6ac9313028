// io/pth_internal.h - the pieces under io/pth.h: a zip reader and writer for PyTorch's
// container (io/pth_zip.c), a safe pickle subset interpreter (io/pickle.c) and the pickle
// writer of state dicts (io/pth_write.c).
#ifndef CG_PTH_INTERNAL_H
#define CG_PTH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../tensor/tensor.h"
#include "atomic_file_internal.h"

// ---- zip (io/pth_zip.c) --------------------------------------------------------------------
typedef struct cg_zip_entry {
    char *name;
    int64_t header_offset, compressed, size; // local header offset, stored and real sizes
    uint32_t crc;
    int method; // 0 stored, 8 deflated
} cg_zip_entry;

typedef struct cg_zip {
    const char *path;
    uint8_t *data; // the whole file
    int64_t file_size;
    cg_zip_entry *entries;
    int64_t count, capacity;
} cg_zip;

// Read path and its central directory (zip64 included). CG_ERR_FORMAT naming path for a
// file that is not a zip or is corrupt. Returns 0 or -1 (*z then needs no cg_zip_close).
int cg_zip_open(cg_zip *z, const char *path);
void cg_zip_close(cg_zip *z);
const cg_zip_entry *cg_zip_find(const cg_zip *z, const char *name);
// The entry's bytes (cg_alloc'd; *size of them), inflated if deflated, never more than the
// declared size, CRC checked. NULL with CG_ERR_FORMAT on a corrupt entry.
uint8_t *cg_zip_read(const cg_zip *z, const cg_zip_entry *e, int64_t *size);

// A writer of stored entries, data aligned to 64 bytes as PyTorch's writer does (mmap).
typedef struct cg_zip_writer {
    cg_atomic_file file;
    cg_zip_entry *entries;
    int64_t count, capacity, offset;
} cg_zip_writer;
int cg_zip_writer_open(cg_zip_writer *w, const char *path, const char *who);
int cg_zip_writer_add(cg_zip_writer *w, const char *name, const void *data, int64_t size);
// Write the central directory and commit the file atomically (aborts if anything failed).
int cg_zip_writer_finish(cg_zip_writer *w);

// ---- pickle (io/pickle.c) ------------------------------------------------------------------
#define CG_PICKLE_MAX_STACK 10000 // stack and mark depth (a state_dict needs about 10)
#define CG_PICKLE_MAX_MEMO  (1 << 24)

// The storage types of torch (torch.FloatStorage, ...), with their element sizes and
// safetensors dtype names (used to convert them, io/safetensors_read.c).
typedef enum cg_pk_dtype {
    CG_PK_F32,
    CG_PK_F64,
    CG_PK_F16,
    CG_PK_BF16,
    CG_PK_I64,
    CG_PK_I32,
    CG_PK_I16,
    CG_PK_I8,
    CG_PK_U8,
    CG_PK_BOOL,
    CG_PK_NDTYPES
} cg_pk_dtype;
typedef struct cg_pk_dtype_info {
    const char *storage, *safetensors; // "FloatStorage", "F32"
    int size;
} cg_pk_dtype_info;
extern const cg_pk_dtype_info cg_pk_dtypes[CG_PK_NDTYPES];

typedef enum cg_pk_kind {
    CG_PK_NONE,
    CG_PK_BOOL_VALUE,
    CG_PK_INT,
    CG_PK_FLOAT,
    CG_PK_STR,
    CG_PK_TUPLE,
    CG_PK_LIST,
    CG_PK_DICT,
    CG_PK_GLOBAL,  // an allowed global (global_id)
    CG_PK_STORAGE, // a persistent_id ('storage', type, key, location, numel)
    CG_PK_TENSOR,  // _rebuild_tensor_v2(...) / _rebuild_parameter(...)
} cg_pk_kind;

typedef struct cg_pk_value cg_pk_value;
struct cg_pk_value {
    cg_pk_kind kind;
    int64_t i; // INT, BOOL; STORAGE: numel; TENSOR: storage offset
    double f;  // FLOAT
    char *s;   // STR; STORAGE: its record key
    int id;    // GLOBAL: index in the allow-list; STORAGE: cg_pk_dtype
    int64_t n, capacity;
    cg_pk_value **items;  // TUPLE, LIST; DICT: key, value, key, value...
    cg_pk_value *storage; // TENSOR
    int ndim;             // TENSOR
    int64_t shape[CG_MAX_DIMS], stride[CG_MAX_DIMS];
};

typedef struct cg_pickle {
    cg_pk_value **values; // every value made, freed together
    int64_t count, capacity;
    cg_pk_value *root;
} cg_pickle;

// Run the pickle `data` (n bytes of the file `path`, for messages). Only the globals a
// state_dict needs are accepted; anything else is CG_ERR_FORMAT naming the global.
int cg_pickle_load(cg_pickle *p, const char *path, const uint8_t *data, int64_t n);
void cg_pickle_free(cg_pickle *p);
// The value of str key `key` in dict d (the last one if repeated), or NULL.
cg_pk_value *cg_pk_dict_get(const cg_pk_value *d, const char *key);

// The converter to float of a safetensors dtype name ("F32", "I64", ...) and its size in
// bytes (little-endian input), or NULL (io/safetensors_read.c).
typedef float (*cg_dtype_convert)(const uint8_t *p);
cg_dtype_convert cg_safetensors_dtype(const char *name, int *size);

// ---- writing (io/pth_write.c) --------------------------------------------------------------
// The protocol-2 pickle torch.save writes for an OrderedDict of float32 tensors
// (int64 for names ending in "num_batches_tracked"), storages "0", "1", ...
int cg_pth_pickle(const cg_tensor_list *tensors, uint8_t **out, int64_t *size);

#endif
