// tensor/tensor.c - tensor creation, ownership and element access.
#include <stdatomic.h>
#include "tensor.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "checked.h"
#include "scope.h"
#include "tensor_internal.h"

// Only for shapes check_shape accepted (or views of a live tensor): the product fits.
static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i]; // bounded: check_shape ran
    return n;
}

static bool check_shape(int ndim, const int64_t *shape, const char *op, const char *arg) {
    if (ndim < 0 || ndim > CG_MAX_DIMS) {
        cg_error(CG_ERR_SHAPE, "%s: %d dims requested, cgrad supports 0..%d", op, ndim,
                 CG_MAX_DIMS);
        return false;
    }
    if (ndim > 0 && !shape) {
        cg_error(CG_ERR_ARG, "%s: shape is NULL for %d dims", op, ndim);
        return false;
    }
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            cg_error(CG_ERR_SHAPE, "%s: negative size %lld in dim %d of shape %s", op,
                     (long long)shape[i], i, cg_shape_str(ndim, shape));
            return false;
        }
    }
    int64_t numel;
    if (!cg_checked_numel(ndim, shape, &numel)) {
        // Named after the creation function, or the op and argument that asked for this
        // shape (cg_empty_for); the op named by alloc.h may be one that finished long ago.
        cg_error(CG_ERR_SHAPE,
                 "%s: %s %s has more than 2^58 elements (integer multiplication overflow)", op, arg,
                 cg_shape_str(ndim, shape));
        return false;
    }
    return true;
}

// A tensor header pointing at `storage` (whose refcount the caller already counted).
// Tensors created and not yet freed, for the autograd layer's hint about missing scopes.
static _Atomic int64_t live_tensors;

int64_t cg_live_tensor_count(void) {
    return live_tensors;
}

static cg_tensor *tensor_header(int ndim, const int64_t *shape, cg_storage *storage,
                                int64_t offset) {
    cg_tensor *t = cg_alloc_zeroed(sizeof *t);
    if (!t) return NULL;
    live_tensors++;
    t->liveness = CG_TENSOR_LIVE;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->numel = shape_numel(ndim, shape);
    t->storage = storage;
    t->offset = offset;
    t->data = storage->data + offset;
    return t;
}

static cg_tensor *empty_unscoped_for(const char *op, const char *arg, int ndim,
                                     const int64_t *shape) {
    if (!check_shape(ndim, shape, op, arg)) return NULL;
    int64_t numel = shape_numel(ndim, shape);
    cg_storage *s = cg_alloc(sizeof *s);
    if (!s) return NULL;
    // numel <= CG_MAX_NUMEL (check_shape), so the byte count cannot wrap.
    s->data = cg_alloc((size_t)(numel > 0 ? numel : 1) * sizeof(float));
    if (!s->data) {
        cg_error(CG_ERR_MEMORY, "%s: out of memory for a tensor of shape %s (%lld bytes)",
                 cg_alloc_op(), cg_shape_str(ndim, shape), (long long)numel * 4);
        cg_dealloc(s);
        return NULL;
    }
    s->numel = numel;
    s->refcount = 1;
    cg_tensor *t = tensor_header(ndim, shape, s, 0);
    if (!t) {
        cg_dealloc(s->data);
        cg_dealloc(s);
    }
    return t;
}

cg_tensor *cg_empty_unscoped(int ndim, const int64_t *shape) {
    return empty_unscoped_for("empty", "shape", ndim, shape);
}

cg_tensor *cg_empty_for(const char *op, const char *arg, int ndim, const int64_t *shape) {
    cg_tensor *t = empty_unscoped_for(op, arg, ndim, shape);
    if (t) cg_scope_adopt(t);
    return t;
}

cg_tensor *cg_empty(int ndim, const int64_t *shape) {
    return cg_empty_for("empty", "shape", ndim, shape);
}

// A new tensor sharing t's storage from element `offset` on (views).
cg_tensor *cg_tensor_view_of(cg_tensor *t, int ndim, const int64_t *shape, int64_t offset) {
    t->storage->refcount++;
    cg_tensor *v = tensor_header(ndim, shape, t->storage, t->offset + offset);
    if (!v) {
        t->storage->refcount--;
        return NULL;
    }
    cg_scope_adopt(v);
    return v;
}

// A filled tensor, named `op` in shape errors.
static cg_tensor *full_for(const char *op, int ndim, const int64_t *shape, float value) {
    cg_tensor *t = cg_empty_for(op, "shape", ndim, shape);
    // Filled here, not by cg_fill_, which would name itself in later overflow and
    // out-of-memory messages of this thread (alloc.h).
    for (int64_t i = 0; t && i < t->numel; i++) t->data[i] = value;
    return t;
}
cg_tensor *cg_zeros(int ndim, const int64_t *shape) {
    return full_for("zeros", ndim, shape, 0.0f);
}
cg_tensor *cg_ones(int ndim, const int64_t *shape) {
    return full_for("ones", ndim, shape, 1.0f);
}
cg_tensor *cg_full(int ndim, const int64_t *shape, float value) {
    return full_for("full", ndim, shape, value);
}

cg_tensor *cg_fill_(cg_tensor *t, float value) {
    if (!cg_check_arg(t, "fill_", "tensor")) return NULL;
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = value;
    return t;
}

cg_tensor *cg_scalar(float value) {
    return cg_full(0, NULL, value);
}

cg_tensor *cg_arange(float start, float end, float step) {
    if (step == 0 || !isfinite(step) || !isfinite(start) || !isfinite(end))
        return cg_error(CG_ERR_ARG,
                        "arange: step must be non-zero and bounds finite (start %g, "
                        "end %g, step %g)",
                        start, end, step);
    if ((end - start) / step < 0)
        return cg_error(CG_ERR_ARG, "arange: step %g does not lead from %g to %g", step, start,
                        end);
    // torch.arange: ceil((end - start) / step) elements, computed in double; checked
    // before the cast, which is undefined for counts beyond int64_t.
    double count = ceil(((double)end - start) / step);
    if (!(count <= (double)CG_MAX_NUMEL))
        return cg_error(CG_ERR_ARG, "arange: %g elements from %g to %g by %g is too many", count,
                        start, end, step);
    int64_t n = (int64_t)count;
    cg_tensor *t = cg_empty(CG_SHAPE(n));
    if (!t) return NULL;
    for (int64_t i = 0; i < n; i++) t->data[i] = (float)(start + (double)i * step);
    return t;
}

cg_tensor *cg_from_data(int ndim, const int64_t *shape, const float *data) {
    if (!data) return cg_error(CG_ERR_ARG, "from_data: data is NULL");
    cg_tensor *t = cg_empty_for("from_data", "shape", ndim, shape);
    if (t) memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

cg_tensor *cg_empty_like(const cg_tensor *t) {
    if (!cg_check_arg(t, "empty_like", "tensor")) return NULL;
    return cg_empty(t->ndim, t->shape);
}
cg_tensor *cg_zeros_like(const cg_tensor *t) {
    if (!cg_check_arg(t, "zeros_like", "tensor")) return NULL;
    return cg_zeros(t->ndim, t->shape);
}
cg_tensor *cg_ones_like(const cg_tensor *t) {
    if (!cg_check_arg(t, "ones_like", "tensor")) return NULL;
    return cg_ones(t->ndim, t->shape);
}

// A node exists only if the autograd layer made it, and it registered these first.
static const cg_node_hooks *node_hooks;

void cg_set_node_hooks(const cg_node_hooks *hooks) {
    node_hooks = hooks;
}

void cg_tensor_drop_node(cg_tensor *t) {
    if (!t->node) return;
    node_hooks->destroy(t->node);
    t->node = NULL;
    t->requires_grad = false;
}

const char *cg_tensor_node_name(const cg_tensor *t) {
    return t->node ? node_hooks->name(t->node) : NULL;
}

void cg_free(cg_tensor *t) {
    if (!t) return;
    if (t->liveness != CG_TENSOR_LIVE) { // its fields are stale: touch nothing else
        cg_error(CG_ERR_STATE,
                 "free: tensor %p was already freed (freed twice, or freed after "
                 "the scope that owned it ended)",
                 (void *)t);
        return;
    }
    t->liveness = 0;
    live_tensors--;
    cg_scope_remove(t);
    cg_free(t->grad);
    if (t->node) cg_tensor_drop_node(t);
    if (--t->storage->refcount == 0) {
        cg_dealloc(t->storage->data);
        cg_dealloc(t->storage);
    }
    cg_dealloc(t);
}

bool cg_tensor_release_data(cg_tensor *t) {
    if (t->storage->refcount != 1 || !t->storage->data) return false;
    cg_dealloc(t->storage->data);
    t->storage->data = NULL;
    t->data = NULL;
    return true;
}

// ---- element access ---------------------------------------------------------------

int64_t cg_size(const cg_tensor *t, int dim) {
    if (!cg_check_arg(t, "size", "tensor")) return -1;
    int d = cg_normalize_dim(dim, t->ndim, "size");
    return d < 0 ? -1 : t->shape[d];
}

float cg_item(const cg_tensor *t) {
    if (!cg_check_arg(t, "item", "tensor")) return NAN;
    if (t->numel != 1) {
        cg_error(CG_ERR_SHAPE, "item: a tensor of shape %s has %lld elements, not one",
                 cg_tensor_shape_str(t), (long long)t->numel);
        return NAN;
    }
    return t->data[0];
}

static int64_t flat_index(const cg_tensor *t, int n, const int64_t *index, const char *op) {
    if (n != t->ndim) {
        cg_error(CG_ERR_ARG, "%s: %d indices for a tensor of shape %s", op, n,
                 cg_tensor_shape_str(t));
        return -1;
    }
    int64_t flat = 0;
    for (int i = 0; i < n; i++) {
        int64_t k = index[i] < 0 ? index[i] + t->shape[i] : index[i];
        if (k < 0 || k >= t->shape[i]) {
            cg_error(CG_ERR_ARG, "%s: index %lld out of range for dim %d of shape %s", op,
                     (long long)index[i], i, cg_tensor_shape_str(t));
            return -1;
        }
        flat = flat * t->shape[i] + k;
    }
    return flat;
}

float cg_get(const cg_tensor *t, int n, const int64_t *index) {
    if (!cg_check_arg(t, "get", "tensor")) return NAN;
    int64_t i = flat_index(t, n, index, "get");
    return i < 0 ? NAN : t->data[i];
}

void cg_set(cg_tensor *t, int n, const int64_t *index, float value) {
    if (!cg_check_arg(t, "set", "tensor")) return;
    int64_t i = flat_index(t, n, index, "set");
    if (i >= 0) t->data[i] = value;
}

bool cg_same_shape(const cg_tensor *a, const cg_tensor *b) {
    if (!cg_check_arg(a, "same_shape", "a") || !cg_check_arg(b, "same_shape", "b") ||
        a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

void cg_tensor_list_free(cg_tensor_list *list) {
    if (!list) return;
    cg_dealloc(list->items);
    list->items = NULL;
    list->count = 0;
}
