// autograd/engine.c - recording nodes and running backward.
//
// The graph is the tensors themselves: each non-leaf tensor points at the node that made
// it, and the node points at its inputs (micrograd's model). Backward orders the nodes
// topologically from the root and calls each op's backward once, newest first.
#include <stdatomic.h>
#include <string.h>

#include "../kernels/elementwise.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/parallel.h"
#include "../tensor/tensor_internal.h"
#include "autograd.h"
#include "grad_ready_internal.h"
#include "record_hook_internal.h"
#include "op.h"

// Grad mode is per thread, as torch.no_grad: a data-loading or evaluation thread that
// turns it off does not change what the training thread records.
static _Thread_local bool grad_enabled = true;
// One counter for all threads: a node marked by a backward pass on one thread must never
// look visited to a later pass on another.
static _Atomic uint32_t visit_epoch = 0;

bool cg_set_grad_enabled(bool enabled) {
    bool prev = grad_enabled;
    grad_enabled = enabled;
    return prev;
}
bool cg_is_grad_enabled(void) {
    return grad_enabled;
}

cg_tensor *cg_requires_grad(cg_tensor *t, bool requires_grad) {
    if (!cg_check_arg(t, "requires_grad", "tensor")) return NULL;
    if (t->node && !requires_grad) {
        cg_error(CG_ERR_STATE, "requires_grad: cannot turn off requires_grad of a non-leaf "
                               "tensor (use cg_detach)");
        return NULL;
    }
    t->requires_grad = requires_grad;
    return t;
}

// The tensor layer frees and names nodes through these hooks (tensor_internal.h).
static void node_free(cg_node *n) {
    cg_node_release(n);
    cg_dealloc(n);
}
static const char *node_name(const cg_node *n) {
    return n->op->name;
}
static const cg_node_hooks node_hooks = {node_free, node_name};

// autograd/record_hook_internal.h: who wants to hear of each new node on this thread.
static _Thread_local cg_record_hook_fn record_hook;
static _Thread_local void *record_hook_ctx;

void cg_set_record_hook(cg_record_hook_fn fn, void *ctx) {
    record_hook = fn;
    record_hook_ctx = ctx;
}

cg_node *cg_record(cg_tensor *out, const cg_op *op, int n_inputs, cg_tensor *const *inputs) {
    if (!out || !grad_enabled || !op->backward) return NULL;
    bool any = false;
    for (int i = 0; i < n_inputs; i++) any |= inputs[i] && inputs[i]->requires_grad;
    if (!any) return NULL;
    cg_node *n = cg_alloc_zeroed(sizeof *n);
    if (!n) return NULL;
    cg_set_node_hooks(&node_hooks);
    n->op = op;
    n->output = out;
    n->n_inputs = n_inputs;
    for (int i = 0; i < n_inputs; i++) {
        n->inputs[i] = inputs[i];
        if (inputs[i]) inputs[i]->uses++;
    }
    out->node = n;
    out->requires_grad = true;
    if (record_hook) record_hook(n, record_hook_ctx);
    return n;
}

bool cg_needs_grad(const cg_node *n, int i) {
    return i < n->n_inputs && n->inputs[i] && n->inputs[i]->requires_grad;
}

cg_tensor *cg_node_save(cg_node *n, int slot, cg_tensor *t) {
    if (!n || !t) return t;
    cg_unscope(t);
    cg_free(n->saved[slot]);
    n->saved[slot] = t;
    return t;
}

void *cg_node_set_ctx(cg_node *n, const void *ctx, size_t size) {
    if (!n) return NULL;
    cg_dealloc(n->ctx);
    n->ctx = cg_alloc(size);
    if (n->ctx) memcpy(n->ctx, ctx, size);
    return n->ctx;
}

void cg_node_release(cg_node *n) {
    for (int i = 0; i < CG_MAX_SAVED; i++) {
        cg_free(n->saved[i]);
        n->saved[i] = NULL;
    }
    cg_dealloc(n->ctx);
    n->ctx = NULL;
    n->released = true;
}

// ---- gradient buffers ----------------------------------------------------------------

cg_tensor *cg_grad_buffer(cg_tensor *t) {
    if (!t->grad) {
        t->grad = cg_empty_unscoped(t->ndim, t->shape);
        if (t->grad) memset(t->grad->data, 0, (size_t)t->numel * sizeof(float));
    }
    return t->grad;
}

void cg_accumulate_grad_data(cg_tensor *t, const float *g) {
    if (!t || !t->requires_grad) return;
    int64_t n = t->numel;
    if (!t->grad) { // the first contribution: a copy, not zeros plus an add
        t->grad = cg_empty_unscoped(t->ndim, t->shape);
        if (t->grad) memcpy(t->grad->data, g, (size_t)n * sizeof(float));
        return;
    }
    cg_add_floats(t->grad->data, g, t->grad->data, n);
}

// A gradient computed by a backward function can become t->grad as it is: a temporary of the
// running backward (innermost scope), with its own whole storage, no graph and no grad.
static bool adoptable(const cg_tensor *t, const cg_tensor *g) {
    return !t->grad && cg_same_shape(t, g) && cg_scope_is_innermost(g) && !g->node && !g->grad &&
           g->offset == 0 && g->storage->refcount == 1 && g->storage->numel == g->numel;
}

void cg_accumulate_grad(cg_tensor *t, const cg_tensor *g) {
    if (!t || !t->requires_grad || !g) return;
    if (adoptable(t, g)) { // the first contribution: no copy at all
        cg_tensor *owned = (cg_tensor *)g;
        cg_unscope(owned);
        owned->requires_grad = false;
        t->grad = owned;
        return;
    }
    if (cg_same_shape(t, g)) {
        cg_accumulate_grad_data(t, g->data);
        return;
    }
    cg_tensor *reduced = cg_sum_to_shape(g, t->ndim, t->shape);
    if (!reduced) return;
    cg_accumulate_grad_data(t, reduced->data);
    cg_free(reduced);
}

void cg_zero_grad(cg_tensor *t) {
    if (cg_check_arg(t, "zero_grad", "tensor") && t->grad)
        memset(t->grad->data, 0, (size_t)t->grad->numel * sizeof(float));
}

// ---- backward ------------------------------------------------------------------------

typedef struct node_list {
    cg_node **items;
    int64_t n, cap;
} node_list;

// Post-order DFS without recursion (graphs can be deep): `order` ends with the root's node.
typedef struct frame {
    cg_node *node;
    int next_input;
} frame;

static bool topological_order(cg_node *root, node_list *order) {
    int64_t cap = 0, top = 0;
    frame *stack = NULL;
    if (cg_array_reserve(&stack, &cap, 64, sizeof *stack) < 0) return false;
    uint32_t epoch = atomic_fetch_add(&visit_epoch, 1) + 1;
    stack[top++] = (frame){root, 0};
    root->visit = epoch;
    bool ok = true;
    while (ok && top > 0) {
        frame *f = &stack[top - 1];
        // A released node's inputs may be gone (it may have owned them): don't descend;
        // the check in cg_backward_ex reports it.
        if (!f->node->released && f->next_input < f->node->n_inputs) {
            cg_tensor *in = f->node->inputs[f->next_input++];
            cg_node *child = in ? in->node : NULL;
            if (!child || child->visit == epoch) continue;
            child->visit = epoch;
            ok = CG_ARRAY_PUSH(stack, top, cap, ((frame){child, 0})) == 0;
        } else {
            ok = CG_ARRAY_PUSH(order->items, order->n, order->cap, f->node) == 0;
            top--;
        }
    }
    cg_dealloc(stack);
    return ok;
}

int cg_backward(cg_tensor *loss) {
    if (!cg_check_arg(loss, "backward", "loss")) return -1;
    if (loss->numel != 1) {
        cg_error(CG_ERR_SHAPE,
                 "backward: grad can be implicitly created only for one-element "
                 "outputs, got shape %s (use cg_backward_ex with a gradient)",
                 cg_tensor_shape_str(loss));
        return -1;
    }
    float one = 1.0f;
    cg_tensor seed = {.ndim = loss->ndim, .numel = 1, .data = &one, .liveness = CG_TENSOR_LIVE};
    memcpy(seed.shape, loss->shape, sizeof seed.shape);
    return cg_backward_ex(loss, &seed, false);
}

// A training loop that forgets scopes keeps every step's graph and intermediates alive.
// When the number of live tensors grows across three backward passes in a row made with no
// scope open on this thread, say so once (a warning: the program is not wrong, just
// growing).
static void warn_if_growing_without_scope(void) {
    static _Thread_local int64_t previous = -1;
    static _Thread_local int growing;
    static _Atomic bool warned;
    if (cg_scope_depth() > 0) {
        previous = -1, growing = 0;
        return;
    }
    int64_t live = cg_live_tensor_count();
    growing = previous >= 0 && live > previous ? growing + 1 : 0;
    if (growing >= 3 && !atomic_exchange(&warned, true))
        cg_warn("backward: %lld tensors are alive, %lld more than at the previous backward, and "
                "no scope is open: each step's graph and intermediates are kept. Wrap each "
                "training step in cg_scope_begin() / cg_scope_end() (docs/tensors.md)",
                (long long)live, (long long)(live - previous));
    previous = live;
}

int cg_backward_ex(cg_tensor *t, const cg_tensor *grad, bool retain_graph) {
    if (!cg_check_arg(t, "backward", "tensor") || !cg_check_arg(grad, "backward", "gradient"))
        return -1;
    if (!t->requires_grad) {
        cg_error(CG_ERR_STATE,
                 "backward: tensor of shape %s does not require grad and has no graph%s",
                 cg_tensor_shape_str(t),
                 cg_is_grad_enabled() ? ""
                                      : " because grad mode is off (cg_set_grad_enabled(false) "
                                        "records no graph; turn it back on before the forward)");
        return -1;
    }
    if (!cg_same_shape(t, grad)) {
        cg_error(CG_ERR_SHAPE, "backward: gradient shape %s does not match tensor shape %s",
                 cg_tensor_shape_str(grad), cg_tensor_shape_str(t));
        return -1;
    }
    warn_if_growing_without_scope();
    if (!t->node) { // a leaf: its gradient is the seed
        cg_accumulate_grad_data(t, grad->data);
        cg_grad_ready_leaf(t);
        return 0;
    }
    node_list order = {0};
    if (!topological_order(t->node, &order)) {
        cg_dealloc(order.items);
        return -1;
    }
    for (int64_t i = 0; i < order.n; i++) {
        if (order.items[i]->released) {
            cg_error(CG_ERR_STATE,
                     "backward: trying to backward through the graph a second "
                     "time: the saved data of '%s' was freed by the first backward (pass "
                     "retain_graph=true to cg_backward_ex to keep it)",
                     order.items[i]->op->name);
            cg_dealloc(order.items);
            return -1;
        }
    }
    // Non-leaf grads hold this pass's gradient only; leaves accumulate across passes.
    for (int64_t i = 0; i < order.n; i++) cg_zero_grad(order.items[i]->output);
    cg_accumulate_grad_data(t, grad->data);

    // A backward reports failure through the error channel (it returns nothing): any error
    // reported while it ran (an allocation, a kernel's status) fails the whole pass.
    bool prev = cg_set_grad_enabled(false);
    int status = 0;
    // After each node (run or skipped), tell the grad-ready hook which leaves it finished.
    cg_grad_ready_plan ready = cg_grad_ready_plan_build(order.items, order.n);
    for (int64_t i = order.n - 1; i >= 0 && status == 0; cg_grad_ready_after(&ready, i--)) {
        cg_node *n = order.items[i];
        if (!n->output->grad) continue; // no gradient reached this node
        unsigned long errors = cg_error_count();
        cg_scope_begin();
        n->op->backward(n, n->output->grad);
        cg_scope_end();
        if (n->output->internal) { // a container's intermediate: its gradient is spent
            cg_free(n->output->grad);
            n->output->grad = NULL;
        }
        if (cg_error_count() != errors) status = -1;
    }
    cg_grad_ready_plan_free(&ready);
    cg_set_grad_enabled(prev);
    if (!retain_graph)
        for (int64_t i = 0; i < order.n; i++) cg_node_release(order.items[i]);
    cg_dealloc(order.items);
    return status;
}
