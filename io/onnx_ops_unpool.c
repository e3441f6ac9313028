// io/onnx_ops_unpool.c - the emitter of max_unpool2d (MaxUnpool2d, MaxUnpool1d through its
// reshapes) as ONNX MaxUnpool, whose indices come from the MaxPool that made them.
//
// cgrad's indices are plain tensors without a node (cg_max_pool2d_with_indices hands out a
// copy of the pooling's argmax; max_unpool2d keeps its own copy), so the traced graph does
// not say where they came from. The pooling is found among the ops the unpool's input was
// computed from: the max pooling whose saved argmax equals the unpool's indices (SegNet's
// pool -> ... -> unpool). Its MaxPool is written again with ONNX's second output, Indices,
// so the indices follow the input at run time instead of being frozen.
//
// Index spaces: cgrad's (PyTorch's) index is h * W + w within one (H, W) plane of the
// pooling's input; ONNX MaxPool's Indices (storage_order 0) and MaxUnpool's I index the
// whole flattened tensor: plane * H * W + h * W + w, with plane = n * C + c. When the
// unpooled plane OH x OW has another size than the pooled input's H x W (a requested
// output_size), the plane offset changes: I = J + (J / HW) * (OH * OW - HW), in int64.
#include <string.h>

#include "../ops/pool_internal.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "onnx_internal.h"

static bool is_max_pool(const cg_node *n) {
    return strcmp(n->op->name, "max_pool2d") == 0 ||
           strcmp(n->op->name, "adaptive_max_pool2d") == 0;
}

// Whether max pooling p's argmax holds exactly the values of `indices`.
static bool gave(const cg_node *p, const cg_tensor *indices) {
    const cg_tensor *a = p->saved[0];
    return a && a->data && a->ndim == indices->ndim &&
           memcmp(a->shape, indices->shape, sizeof(int64_t) * (size_t)a->ndim) == 0 &&
           memcmp(a->data, indices->data, sizeof(float) * (size_t)a->numel) == 0;
}

// Two max poolings of the same input with the same windows give the same indices always.
static bool same_pooling(const cg_node *a, const cg_node *b) {
    const pool_geometry *p = a->ctx, *q = b->ctx;
    bool same = a->op == b->op && a->inputs[0] == b->inputs[0] && p->adaptive == q->adaptive &&
                p->OH == q->OH && p->OW == q->OW;
    for (int d = 0; d < 2 && same && !p->adaptive; d++)
        same = p->kernel[d] == q->kernel[d] && p->stride[d] == q->stride[d] &&
               p->padding[d] == q->padding[d] && p->dilation[d] == q->dilation[d];
    return same;
}

typedef struct search {
    const cg_node **seen;
    int64_t n_seen, cap_seen;
    const cg_tensor *indices;
    const cg_node *found;
    bool ambiguous, failed;
} search;

// Depth-first over the nodes t was computed from (each once), noting matching poolings.
static void look(search *s, const cg_tensor *t) {
    const cg_node *n = t ? t->node : NULL;
    if (!n || s->failed) return;
    for (int64_t i = 0; i < s->n_seen; i++)
        if (s->seen[i] == n) return;
    if (CG_ARRAY_PUSH(s->seen, s->n_seen, s->cap_seen, n) < 0) {
        s->failed = true;
        return;
    }
    if (is_max_pool(n) && gave(n, s->indices)) {
        if (s->found && !same_pooling(s->found, n)) s->ambiguous = true;
        if (!s->found) s->found = n;
    }
    for (int i = 0; i < n->n_inputs; i++) look(s, n->inputs[i]);
}

// The max pooling that gave unpool node u its indices, or NULL after refusing.
static const cg_node *source_pool(cg_onnx_graph *g, const cg_node *u) {
    search s = {.indices = u->saved[0]};
    if (!s.indices) return cg_onnx_refuse(g, u, "its indices were not kept"), NULL;
    look(&s, u->inputs[0]);
    cg_dealloc(s.seen);
    if (s.failed) return NULL;
    if (s.ambiguous)
        return cg_onnx_refuse(g, u, "its indices equal those of several different max poolings"),
               NULL;
    if (!s.found)
        return cg_onnx_refuse(g, u,
                              "its indices come from no max pooling that its input was computed "
                              "from (pass the indices of a max pooling in the same forward "
                              "unchanged)"),
               NULL;
    return s.found;
}

// The pooling p's MaxPool again, with its Indices output (int64) named `indices`; refusals
// name the unpool u.
static bool pool_indices(cg_onnx_graph *g, const cg_node *u, const cg_node *p,
                         const char *indices) {
    const pool_geometry *q = p->ctx;
    const char *x = cg_onnx_name_of(g, p->inputs[0]); // visited: it precedes u's input
    if (!x || p->inputs[0]->ndim != 4)
        return cg_onnx_refuse(g, u, "the max pooling of its indices has no batch dim");
    if (q->adaptive && (q->H % q->OH || q->W % q->OW))
        return cg_onnx_refuse(g, u,
                              "its indices come from an adaptive max pooling whose windows vary "
                              "in size, which ONNX MaxPool cannot compute");
    char values[CG_ONNX_NAME];
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "MaxPool", 1, &x, cg_onnx_temp(g, "pooled", values));
    cg_onnx_node_output(&nd, indices);
    if (q->adaptive) { // fixed windows that tile the input, as cg_onnx_emit_max_pool writes
        int64_t k[2] = {q->H / q->OH, q->W / q->OW};
        cg_onnx_attr_ints(&nd, "kernel_shape", 2, k);
        cg_onnx_attr_ints(&nd, "strides", 2, k);
    } else {
        cg_onnx_pool_window_attrs(&nd, q, true);
    }
    cg_onnx_node_end(&nd);
    return true;
}

// J (ONNX's flat indices into the pooled input, H x W planes) -> indices into the unpooled
// output's planes (OH x OW): J + (J / HW) * (OHOW - HW).
static void replane(cg_onnx_graph *g, const char *j, int64_t hw, int64_t ohow, const char *out) {
    char c_hw[CG_ONNX_NAME], c_diff[CG_ONNX_NAME], plane[CG_ONNX_NAME], shift[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "plane_size", 1, &hw, c_hw);
    int64_t diff = ohow - hw;
    cg_onnx_const_ints(g, "plane_growth", 1, &diff, c_diff);
    cg_onnx_simple(g, "Div", 2, (const char *[]){j, c_hw}, cg_onnx_temp(g, "plane", plane));
    cg_onnx_simple(g, "Mul", 2, (const char *[]){plane, c_diff}, cg_onnx_temp(g, "shift", shift));
    cg_onnx_simple(g, "Add", 2, (const char *[]){j, shift}, out);
}

bool cg_onnx_emit_max_unpool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                             const char *out) {
    const cg_tensor *x = n->inputs[0], *y = n->output;
    if (x->ndim != 4) return cg_onnx_refuse(g, n, "the input has no batch dim");
    const cg_node *p = source_pool(g, n);
    if (!p) return false;
    const pool_geometry *q = p->ctx;
    char j[CG_ONNX_NAME], idx[CG_ONNX_NAME], shape[CG_ONNX_NAME];
    if (!pool_indices(g, n, p, cg_onnx_temp(g, "pool_indices", j))) return false;
    int64_t hw = q->H * q->W, ohow = y->shape[2] * y->shape[3];
    const char *indices = j;
    if (hw != ohow) replane(g, j, hw, ohow, indices = cg_onnx_temp(g, "unpool_indices", idx));
    cg_onnx_batch_shape(g, in[0], 2, y->shape + 2, cg_onnx_temp(g, "output_shape", shape));
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "MaxUnpool", 3, (const char *[]){in[0], indices, shape}, out);
    const unpool_plan *u = n->ctx;
    int64_t k[2] = {u->kernel[0], u->kernel[1]}, s[2] = {u->stride[0], u->stride[1]},
            pads[4] = {u->padding[0], u->padding[1], u->padding[0], u->padding[1]};
    cg_onnx_attr_ints(&nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(&nd, "strides", 2, s);
    cg_onnx_attr_ints(&nd, "pads", 4, pads);
    cg_onnx_node_end(&nd);
    return true;
}
