// ops/binary.c - add, sub, mul, div with PyTorch broadcasting, and where().
#include "../autograd/op.h"
#include "../tensor/parallel.h"
#include "math.h"
#include "../tensor/tensor_internal.h"

typedef enum { ADD, SUB, MUL, DIV } binary_kind;

static inline float apply(binary_kind k, float a, float b) {
    switch (k) {
    case ADD:
        return a + b;
    case SUB:
        return a - b;
    case MUL:
        return a * b;
    case DIV:
        return a / b;
    }
    return 0;
}

typedef struct same_shape_job {
    binary_kind k;
    const float *a, *b;
    float *out;
} same_shape_job;

static void same_shape_range(void *ctx, int64_t begin, int64_t end) {
    const same_shape_job *j = ctx;
    for (int64_t i = begin; i < end; i++) j->out[i] = apply(j->k, j->a[i], j->b[i]);
}

// out[i] = a[i] (op) b[i], with a or b read through broadcast strides.
static void binary_kernel(binary_kind k, const cg_tensor *a, const cg_tensor *b, cg_tensor *out) {
    const float *pa = a->data, *pb = b->data;
    float *po = out->data;
    int64_t n = out->numel;
    if (a->numel == n && b->numel == n) { // same shape: the common case, one flat loop
        same_shape_job j = {k, pa, pb, po};
        cg_parallel_for(n, CG_PARALLEL_MIN, same_shape_range, &j);
        return;
    }
    if (b->numel == 1 && a->numel == n) {
        float s = pb[0];
        for (int64_t i = 0; i < n; i++) po[i] = apply(k, pa[i], s);
        return;
    }
    int64_t sa[CG_MAX_DIMS], sb[CG_MAX_DIMS], index[CG_MAX_DIMS] = {0};
    cg_broadcast_strides(a->ndim, a->shape, out->ndim, out->shape, sa);
    cg_broadcast_strides(b->ndim, b->shape, out->ndim, out->shape, sb);
    int last = out->ndim - 1;
    int64_t inner = out->shape[last], ia = 0, ib = 0;
    for (int64_t i = 0; i < n; i += inner) {
        for (int64_t j = 0; j < inner; j++)
            po[i + j] = apply(k, pa[ia + j * sa[last]], pb[ib + j * sb[last]]);
        for (int d = last - 1; d >= 0; d--) { // odometer over the outer dims
            ia += sa[d];
            ib += sb[d];
            if (++index[d] < out->shape[d]) break;
            ia -= sa[d] * out->shape[d];
            ib -= sb[d] * out->shape[d];
            index[d] = 0;
        }
    }
}

static void add_backward(cg_node *n, const cg_tensor *g) {
    cg_accumulate_grad(n->inputs[0], g);
    cg_accumulate_grad(n->inputs[1], g);
}

static void sub_backward(cg_node *n, const cg_tensor *g) {
    cg_accumulate_grad(n->inputs[0], g);
    if (cg_needs_grad(n, 1)) cg_accumulate_grad(n->inputs[1], cg_neg((cg_tensor *)g));
}

static void mul_backward(cg_node *n, const cg_tensor *g) {
    cg_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (cg_needs_grad(n, 0)) cg_accumulate_grad(a, cg_mul((cg_tensor *)g, b));
    if (cg_needs_grad(n, 1)) cg_accumulate_grad(b, cg_mul((cg_tensor *)g, a));
}

// y = a / b: da = g / b, db = -g * a / b^2 = -g * y / b
static void div_backward(cg_node *n, const cg_tensor *g) {
    cg_tensor *a = n->inputs[0], *b = n->inputs[1];
    cg_tensor *ga = cg_div((cg_tensor *)g, b);
    if (cg_needs_grad(n, 0)) cg_accumulate_grad(a, ga);
    if (cg_needs_grad(n, 1)) cg_accumulate_grad(b, cg_neg(cg_mul(ga, n->output)));
}

const cg_op cg_op_add = {"add", add_backward, "nothing"};
const cg_op cg_op_sub = {"sub", sub_backward, "nothing"};
const cg_op cg_op_mul = {"mul", mul_backward, "both inputs"};
const cg_op cg_op_div = {"div", div_backward, "divisor and output"};

static cg_tensor *binary(binary_kind k, const cg_op *op, cg_tensor *a, cg_tensor *b) {
    if (!cg_check_arg(a, op->name, "a") || !cg_check_arg(b, op->name, "b")) return NULL;
    int ndim;
    int64_t shape[CG_MAX_DIMS];
    if (!cg_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &ndim, shape, op->name))
        return NULL;
    cg_tensor *out = cg_empty(ndim, shape);
    if (!out) return NULL;
    binary_kernel(k, a, b, out);
    cg_node *n = cg_record(out, op, 2, (cg_tensor *[]){a, b});
    // add and sub pass the gradient on: no value of a, b or out is read.
    if (n && (op == &cg_op_add || op == &cg_op_sub))
        n->unread = CG_OP_OUTPUT_UNREAD | CG_OP_INPUT_UNREAD(0) | CG_OP_INPUT_UNREAD(1);
    return out;
}

cg_tensor *cg_add(cg_tensor *a, cg_tensor *b) {
    return binary(ADD, &cg_op_add, a, b);
}
cg_tensor *cg_sub(cg_tensor *a, cg_tensor *b) {
    return binary(SUB, &cg_op_sub, a, b);
}
cg_tensor *cg_mul(cg_tensor *a, cg_tensor *b) {
    return binary(MUL, &cg_op_mul, a, b);
}
cg_tensor *cg_div(cg_tensor *a, cg_tensor *b) {
    return binary(DIV, &cg_op_div, a, b);
}

// ---- where -----------------------------------------------------------------------------

// Broadcast t to `shape` (a copy); used by where() to line its three operands up.
static cg_tensor *expand_to(cg_tensor *t, int ndim, const int64_t *shape) {
    cg_tensor *zeros = cg_zeros(ndim, shape);
    if (!zeros) return NULL;
    cg_tensor *out = cg_empty(ndim, shape);
    if (out) binary_kernel(ADD, zeros, t, out);
    cg_free(zeros);
    return out;
}

// where(c, a, b): da = g * (c != 0), db = g * (c == 0), each summed back to its shape.
static void where_backward(cg_node *n, const cg_tensor *g) {
    const float *mask = n->saved[0]->data;
    cg_tensor *ga = cg_empty_like(g), *gb = cg_empty_like(g);
    if (!ga || !gb) return;
    for (int64_t i = 0; i < g->numel; i++) {
        ga->data[i] = mask[i] != 0 ? g->data[i] : 0.0f;
        gb->data[i] = mask[i] != 0 ? 0.0f : g->data[i];
    }
    cg_accumulate_grad(n->inputs[0], ga);
    cg_accumulate_grad(n->inputs[1], gb);
}
const cg_op cg_op_where = {"where", where_backward, "broadcast condition"};

cg_tensor *cg_where(cg_tensor *cond, cg_tensor *a, cg_tensor *b) {
    if (!cg_check_arg(cond, "where", "condition") || !cg_check_arg(a, "where", "a") ||
        !cg_check_arg(b, "where", "b"))
        return NULL;
    int n1, ndim;
    int64_t s1[CG_MAX_DIMS], shape[CG_MAX_DIMS];
    if (!cg_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &n1, s1, "where") ||
        !cg_broadcast_shapes(cond->ndim, cond->shape, n1, s1, &ndim, shape, "where"))
        return NULL;
    cg_tensor *c = expand_to(cond, ndim, shape), *ea = expand_to(a, ndim, shape),
              *eb = expand_to(b, ndim, shape), *out = cg_empty(ndim, shape);
    if (!c || !ea || !eb || !out) return NULL;
    for (int64_t i = 0; i < out->numel; i++)
        out->data[i] = c->data[i] != 0 ? ea->data[i] : eb->data[i];
    cg_free(ea);
    cg_free(eb);
    cg_node *node = cg_record(out, &cg_op_where, 2, (cg_tensor *[]){a, b});
    if (node)
        cg_node_save(node, 0, c);
    else
        cg_free(c);
    return out;
}
