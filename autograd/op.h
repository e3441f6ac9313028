// autograd/op.h - how an op is defined (for authors of ops, inside and outside cgrad).
// The pointer arguments here are required and not checked, except where a comment says
// NULL is allowed (cg_record's out, a NULL node from a cg_record that recorded nothing).
//
// An op is a plain forward function plus one cg_op descriptor next to it:
//
//   static void relu_backward(cg_node *n, const cg_tensor *grad_out) {
//       // y = max(x, 0): dx = dy * (x > 0)
//       ...
//       cg_accumulate_grad(n->inputs[0], dx);
//   }
//   const cg_op cg_op_relu = {"relu", relu_backward, "input"};
//
//   cg_tensor *cg_relu(cg_tensor *x) {
//       ... compute y ...
//       cg_record(y, &cg_op_relu, 1, &x);   // no-op unless some input requires grad
//       return y;
//   }
//
// and one line `CG_OP(relu)` in ops/ops.def, the registry of all ops.
//
// Backward functions run with grad mode off inside their own scope, so temporaries they
// create are freed automatically; they add into input grads with cg_accumulate_grad*.
#ifndef CG_OP_H
#define CG_OP_H

#include "../tensor/scope.h"
#include "../tensor/tensor.h"

#define CG_MAX_OP_INPUTS 4
#define CG_MAX_SAVED     4

typedef struct cg_node cg_node;
typedef void (*cg_backward_fn)(cg_node *node, const cg_tensor *grad_out);

typedef struct cg_op {
    const char *name;
    cg_backward_fn backward; // NULL: not differentiable (nothing is recorded)
    const char *saves;       // what forward keeps for backward, for people and graph export
} cg_op;

struct cg_node {
    const cg_op *op;
    cg_tensor *output; // the tensor this node produced
    int n_inputs;
    cg_tensor *inputs[CG_MAX_OP_INPUTS]; // not owned; NULL allowed (e.g. no bias)
    cg_tensor *saved[CG_MAX_SAVED];      // owned: freed when the graph is released
    void *ctx;                           // owned: the op's typed state (cg_node_set_ctx)
    bool released;                       // saved data freed by a backward without retain
    // Optional, set by the op after cg_record: the tensors whose values its backward never
    // reads (it may read their shapes), CG_OP_OUTPUT_UNREAD | CG_OP_INPUT_UNREAD(i). A
    // container's intermediate that only such reads need gives its memory back once it
    // has been consumed (cg_free_consumed). 0 claims nothing.
    unsigned unread;
    uint32_t visit; // traversal mark used by backward and export
};

#define CG_OP_OUTPUT_UNREAD   (1u << 0)
#define CG_OP_INPUT_UNREAD(i) (1u << (1 + (i)))

// Record `op` on `out` if grad mode is on and any input requires grad; returns the node
// for the op to fill (saved, ctx), or NULL when nothing is recorded (also for out NULL, a
// forward that failed).
cg_node *cg_record(cg_tensor *out, const cg_op *op, int n_inputs, cg_tensor *const *inputs);

// Whether input i of the node wants a gradient.
bool cg_needs_grad(const cg_node *n, int i);

// Keep t for backward: the node takes ownership (t leaves its scope). Returns t. Both this
// and cg_node_set_ctx accept the NULL node of a cg_record that recorded nothing (no-op).
cg_tensor *cg_node_save(cg_node *n, int slot, cg_tensor *t);
// Copy an options struct into the node (freed with the node's saved data).
void *cg_node_set_ctx(cg_node *n, const void *ctx, size_t size);

// Free what a node saved for backward (keeps the node itself).
void cg_node_release(cg_node *n);

// The one way a backward hands a gradient to an input: add g into t->grad. If g's shape is
// a broadcast of t's shape, g is summed down to t's shape first. The first contribution to
// a grad costs nothing when g is a temporary the backward made (innermost scope, whole
// storage): t adopts it as its .grad instead of copying it. Does nothing if t does not
// require grad.
void cg_accumulate_grad(cg_tensor *t, const cg_tensor *g);
// Add t->numel raw floats (same order) into t->grad: for views whose grad has another shape
// (reshape's backward); everything else uses cg_accumulate_grad.
void cg_accumulate_grad_data(cg_tensor *t, const float *g);
// t->grad, allocated and zeroed if needed, for backward code that writes in place.
cg_tensor *cg_grad_buffer(cg_tensor *t);

#endif
