// tensor/tensor.h - float32 N-d tensors: creation, views, element access, printing.
//
// A cg_tensor is a shape plus a pointer into reference-counted contiguous storage
// (row-major, C order). cgrad has one dtype, float32; index results (argmax, randint,
// randperm, class labels) are whole numbers stored as float32, exact up to 2^24.
//
// Ownership (see tensor/scope.h):
//  - a tensor created while a scope is open belongs to the innermost scope and is freed
//    when that scope ends, unless cg_keep() hands it to the enclosing one;
//  - a tensor created with no scope open belongs to the caller, who frees it with cg_free();
//  - a tensor's .grad belongs to the tensor and is freed with it.
//
// Shapes are passed as (ndim, const int64_t *shape); CG_SHAPE(2, 3) writes both:
//   cg_tensor *x = cg_zeros(CG_SHAPE(2, 3));
#ifndef CG_TENSOR_H
#define CG_TENSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

#define CG_MAX_DIMS 8

// CG_SHAPE(a, b, ...) expands to `ndim, (int64_t[]){a, b, ...}`.
#define CG_SHAPE(...)                                                                              \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }
// CG_DIMS(0, 2) expands to `2, (int[]){0, 2}` for reductions; CG_ALL_DIMS means every dim.
#define CG_DIMS(...)                                                                               \
    (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), (int[]) {                                   \
        __VA_ARGS__                                                                                \
    }
#define CG_ALL_DIMS 0, NULL

typedef struct cg_storage {
    float *data;
    int64_t numel;
    int refcount;
} cg_storage;

typedef struct cg_tensor cg_tensor;
struct cg_node;
struct cg_scope;

struct cg_tensor {
    int ndim;
    int64_t shape[CG_MAX_DIMS];
    int64_t numel;
    float *data; // == storage->data + offset; numel contiguous floats
    cg_storage *storage;
    int64_t offset;

    // autograd
    bool requires_grad;   // leaf: set by the user; non-leaf: any input requires grad
    cg_tensor *grad;      // same shape; allocated by backward, owned by this tensor
    struct cg_node *node; // the op application that produced this tensor (NULL: leaf)
    const char *name;     // optional label for printing and graph export (not owned)
    // A container's intermediate nobody outside it can see (cg_free_consumed): backward
    // frees its .grad as soon as the node that made it has used it.
    bool internal;
    // How many graph nodes were recorded with it as an input. An internal tensor whose
    // values no backward reads gives them back early (cg_free_consumed): data becomes NULL
    // and only its shape is used from then on.
    int uses;

    // ownership bookkeeping (see above)
    struct cg_scope *scope; // NULL: owned by the caller or by a graph node
    cg_tensor *scope_prev, *scope_next;
    // CG_TENSOR_LIVE from creation until cg_free, which overwrites it: a tensor used after
    // its scope ended is refused by name ("argument 'input' is a freed tensor") until its
    // memory is reused. The sanitizer build reports every such use (heap-use-after-free).
    uint32_t liveness;
};
#define CG_TENSOR_LIVE 0x7e5a11feu

// ---- creation ----------------------------------------------------------------
cg_tensor *cg_empty(int ndim, const int64_t *shape); // uninitialised
cg_tensor *cg_zeros(int ndim, const int64_t *shape);
cg_tensor *cg_ones(int ndim, const int64_t *shape);
cg_tensor *cg_full(int ndim, const int64_t *shape, float value);
cg_tensor *cg_scalar(float value);                        // 0-d tensor
cg_tensor *cg_arange(float start, float end, float step); // [start, end) as torch.arange
cg_tensor *cg_from_data(int ndim, const int64_t *shape, const float *data); // copies data
cg_tensor *cg_empty_like(const cg_tensor *t);
cg_tensor *cg_zeros_like(const cg_tensor *t);
cg_tensor *cg_ones_like(const cg_tensor *t);
void cg_free(cg_tensor *t); // NULL is fine; frees the tensor, its grad and its graph node

// ---- random numbers ----------------------------------------------------------
// A PCG32 generator: the same seed gives the same numbers on every run and machine.
// Functions take a cg_rng* or NULL for the global generator (seeded by cg_manual_seed).
typedef struct cg_rng {
    uint64_t state, inc;
} cg_rng;
void cg_rng_seed(cg_rng *rng, uint64_t seed);
void cg_manual_seed(uint64_t seed);
cg_rng *cg_global_rng(void);
uint32_t cg_rng_next(cg_rng *rng);
float cg_rng_uniform(cg_rng *rng); // [0, 1)
// out[0..n) = the next n cg_rng_uniform(rng) values, in order, in one tight loop (the
// generator's state stays in registers): what bulk users (dropout, uniform_) draw with.
void cg_rng_uniforms(cg_rng *rng, float *out, int64_t n);
float cg_rng_normal(cg_rng *rng);  // N(0, 1)

cg_tensor *cg_rand(int ndim, const int64_t *shape, cg_rng *rng);  // U[0, 1)
cg_tensor *cg_randn(int ndim, const int64_t *shape, cg_rng *rng); // N(0, 1)
cg_tensor *cg_uniform(int ndim, const int64_t *shape, float low, float high, cg_rng *rng);
cg_tensor *cg_normal(int ndim, const int64_t *shape, float mean, float std, cg_rng *rng);
cg_tensor *cg_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, cg_rng *rng);
cg_tensor *cg_randperm(int64_t n, cg_rng *rng);
// In-place fills (used by initialisers); return t.
cg_tensor *cg_uniform_(cg_tensor *t, float low, float high, cg_rng *rng);
cg_tensor *cg_normal_(cg_tensor *t, float mean, float std, cg_rng *rng);
cg_tensor *cg_fill_(cg_tensor *t, float value);

// ---- element access and shape helpers ----------------------------------------
int64_t cg_size(const cg_tensor *t, int dim);                  // negative dims count from the end
float cg_item(const cg_tensor *t);                             // the value of a one-element tensor
float cg_get(const cg_tensor *t, int n, const int64_t *index); // cg_get(t, CG_SHAPE(i, j))
void cg_set(cg_tensor *t, int n, const int64_t *index, float value);
bool cg_same_shape(const cg_tensor *a, const cg_tensor *b);
// The one tuple formatter of cgrad (messages and reprs). The text goes to a thread-local
// rotating buffer, valid for the next 15 calls in the same thread.
typedef enum cg_tuple_style {
    CG_TUPLE_SHAPE,   // [2,3]: shapes in messages
    CG_TUPLE_PYTHON,  // (2, 3), (3,): a tuple as PyTorch's repr prints it
    CG_TUPLE_COMPACT, // 2 when all entries are equal, else (2, 3): an int-or-tuple argument
} cg_tuple_style;
const char *cg_tuple_str(cg_tuple_style style, int n, const int64_t *values);
// "[2,3]": cg_tuple_str(CG_TUPLE_SHAPE, ndim, shape).
const char *cg_shape_str(int ndim, const int64_t *shape);
const char *cg_tensor_shape_str(const cg_tensor *t);

// ---- lists of named tensors (state dicts, files) ------------------------------------
#define CG_NAME_MAX 128
typedef struct cg_named_tensor {
    char name[CG_NAME_MAX];
    cg_tensor *tensor;
} cg_named_tensor;
typedef struct cg_tensor_list {
    int count;
    cg_named_tensor *items;
} cg_tensor_list;
void cg_tensor_list_free(cg_tensor_list *list); // frees the array, not the tensors

// ---- argument checks and broadcasting (for op authors; tensor/shape.c) ---------------
// Their pointer arguments are required and not checked (they run inside every op); ops
// check the user's arguments with these before calling anything else.
// Return true if t is non-NULL; otherwise report "<op>: argument '<arg>' is NULL" unless an
// earlier error is pending (then its message is kept). Use as: if (!cg_check_arg(x, "relu",
// "input")) return NULL;
bool cg_check_arg(const cg_tensor *t, const char *op, const char *arg);
// The same for any other pointer argument (a module, a loader, a name, an output).
bool cg_check_ptr(const void *p, const char *op, const char *arg);
// Normalise a possibly negative dim against ndim; reports an error naming op and returns -1
// if out of range.
int cg_normalize_dim(int dim, int ndim, const char *op);
// Broadcast two shapes (PyTorch rules). Returns false and reports "<op>: shapes [..] and
// [..] cannot be broadcast" if they do not fit.
bool cg_broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                         int64_t *out, const char *op);
// Strides (in elements) for reading a tensor of shape (n, shape) as if it had the broadcast
// shape (nout, out): 0 along broadcast dims.
void cg_broadcast_strides(int n, const int64_t *shape, int nout, const int64_t *out,
                          int64_t *strides);
// Sum g (shape = a broadcast of `shape`) down to `shape`; returns a new tensor (not
// differentiable: backward functions use it on gradients).
cg_tensor *cg_sum_to_shape(const cg_tensor *g, int ndim, const int64_t *shape);

// ---- printing ----------------------------------------------------------------
// PyTorch style: tensor([[1.0000, 2.0000], ...], requires_grad=True)
void cg_print(const cg_tensor *t);
void cg_fprint(FILE *f, const cg_tensor *t);

#endif
