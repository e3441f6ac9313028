// io/safetensors.h - reading and writing safetensors files (the format only: no modules,
// no optimizers; io/checkpoint.h builds model state and training checkpoints on it).
//
// The safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes       N, the header length, unsigned little-endian
//   N bytes       JSON: {"__metadata__": {"key": "value", ...},
//                        "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
//                        ...}, padded with spaces so that N is a multiple of 8
//   rest          the tensors' raw little-endian bytes, row-major, back to back; data_offsets
//                 are [begin, end) relative to the start of this part.
// cgrad writes what the reference implementation writes for the same input, byte for byte:
// compact JSON, "__metadata__" first (its keys sorted), tensors stored in name order
// (byte-wise strcmp), F32 only.
//
// Errors: a file that cannot be opened/read/written is CG_ERR_IO; a corrupt file
// (truncated, header length beyond the file, malformed JSON, unknown dtype, offsets that
// are out of bounds, overlap or leave gaps, shapes that do not match the byte counts) is
// CG_ERR_FORMAT naming the file and the problem; a file that is fine but does not fit the
// model is CG_ERR_SHAPE. Readers never crash on corrupt input.
#ifndef CG_SAFETENSORS_H
#define CG_SAFETENSORS_H

#include <stdint.h>

#include "../tensor/tensor.h"

// Header lengths above this are treated as corrupt (as the reference implementation does).
#define CG_SAFETENSORS_MAX_HEADER 100000000

// ---- raw safetensors ----------------------------------------------------------------------
// Write `tensors` (names must be unique and not "__metadata__"; any shape, 0-d included)
// as F32 with n_meta string pairs in "__metadata__" (none if n_meta is 0). The tensors are
// only read. Atomic: the data goes to "<path>.tmp-XXXXXX", is flushed and fsynced and then
// renamed over path, so on any failure an existing file at path is unchanged.
// Returns 0, or -1 (CG_ERR_ARG for bad names/NULL tensors, CG_ERR_IO for write failures).
int cg_safetensors_save(const char *path, const cg_tensor_list *tensors, int n_meta,
                        const char *const *meta_keys, const char *const *meta_values);

// A loaded file: tensors in the order of their data in the file, all float32 (F64, F16,
// BF16, I64, I32, I16, I8, U8 and BOOL are converted on load, e.g. PyTorch's I64
// num_batches_tracked), created outside any scope and owned by this struct.
typedef struct cg_safetensors {
    cg_tensor_list tensors;
    int n_meta;
    char **meta_keys, **meta_values; // NUL-terminated UTF-8
} cg_safetensors;

// Read and validate a whole file into *out (zeroed first). Returns 0, or -1 with *out
// empty. Names longer than CG_NAME_MAX-1 bytes are rejected as CG_ERR_FORMAT.
int cg_safetensors_load(const char *path, cg_safetensors *out);
void cg_safetensors_free(cg_safetensors *st); // frees everything and zeroes *st; NULL is fine
// The tensor called name (owned by st), or NULL.
cg_tensor *cg_safetensors_find(const cg_safetensors *st, const char *name);
// The metadata value for key (owned by st), or NULL.
const char *cg_safetensors_meta(const cg_safetensors *st, const char *key);

#endif
