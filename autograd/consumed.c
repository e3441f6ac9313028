// autograd/consumed.c - freeing an intermediate as soon as nothing can use it.
//
// A scope frees what was made inside it when it ends, which is what a training step needs:
// backward reads the activations through the graph's nodes (which point at their inputs
// without owning them). An evaluation pass records no graph, so each activation is dead as
// soon as the next layer has read it; keeping them all until the scope ends made a
// 1000-image no-grad forward hold every layer's output at once. Containers (and module
// forwards that chain ops) hand each consumed intermediate to cg_free_consumed, which frees
// it only when that is provably safe, and otherwise leaves it to its scope. In training it
// marks the tensor internal instead: nobody will read its .grad, so backward drops that as
// soon as the node that made the tensor has used it (autograd/engine.c), instead of holding
// every intermediate's gradient until the scope ends.
#include "../tensor/tensor_internal.h"
#include "autograd.h"
#include "op.h"

// No node can point at t: none is recorded while grad mode is off, and with grad mode on a
// node would have made `result` (computed from t) require grad or carry a node.
static bool outside_any_graph(const cg_tensor *t, const cg_tensor *result) {
    if (!cg_is_grad_enabled()) return true;
    return !t->requires_grad && !t->node && !result->requires_grad && !result->node;
}

// Whether no backward will read t's values: the node that made t does not read its output,
// and t's one consumer, the node that made result, does not read that input.
static bool values_unread(const cg_tensor *t, const cg_tensor *result) {
    const cg_node *consumer = result->node;
    if (t->uses != 1 || !t->node || !(t->node->unread & CG_OP_OUTPUT_UNREAD) || !consumer)
        return false;
    for (int i = 0; i < consumer->n_inputs; i++)
        if (consumer->inputs[i] == t) return (consumer->unread & CG_OP_INPUT_UNREAD(i)) != 0;
    return false;
}

bool cg_free_consumed(cg_tensor *t, const cg_tensor *keep, const cg_tensor *result) {
    if (!t || !result || t == keep || t == result) return false;
    // Only the innermost scope's own temporaries: a node that saved t, a module or caller
    // that owns it, or a cg_keep took it out of this scope (and a tensor made with no scope
    // open belongs to the caller, who may hold it).
    if (!cg_scope_is_innermost(t)) return false;
    if (!outside_any_graph(t, result)) {
        // Training: backward needs t itself, but not its gradient once t's own node used it,
        // and maybe not its values (a convolution's output read only by ReLU + max pooling).
        t->internal = true;
        if (values_unread(t, result)) cg_tensor_release_data(t);
        return false;
    }
    // Views of t (result may be one, e.g. Flatten) hold their own reference to its storage.
    cg_free(t);
    return true;
}
