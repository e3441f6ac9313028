// autograd/autograd.h - define-by-run reverse-mode differentiation, scopes, gradcheck.
//
// Every op that gets an input with requires_grad (while grad mode is on) records a node on
// its output: which op (autograd/ops.def), its inputs and what it saved for backward.
// cg_backward(loss) walks those nodes in reverse topological order and accumulates
// d loss / d t into t->grad for every tensor on the way (leaves and intermediates; the
// intermediates inside containers, which nobody outside can see, give theirs up as soon as
// it has been used: cg_free_consumed).
#ifndef CG_AUTOGRAD_H
#define CG_AUTOGRAD_H

#include <stdbool.h>
#include <stdio.h>

#include "../tensor/scope.h"
#include "../tensor/tensor.h"

// Mark a leaf as needing a gradient (torch's requires_grad_). Returns t.
cg_tensor *cg_requires_grad(cg_tensor *t, bool requires_grad);

// Backward from a one-element tensor (seed gradient 1). Frees the graph's saved data
// afterwards: a second backward through it is an error unless retain_graph was set.
int cg_backward(cg_tensor *loss);
// Backward from any tensor with an explicit seed gradient of the same shape.
int cg_backward_ex(cg_tensor *t, const cg_tensor *grad, bool retain_graph);

// A listener told, during every backward, when a leaf that requires grad has received its
// last contribution of that pass (its .grad is final; it may be NULL if no gradient reached
// it): right after the last node that feeds it ran, in backward order. Data parallelism
// (dist/) uses it to start averaging gradients while backward goes on. One listener;
// NULL removes it.
typedef void (*cg_grad_ready_fn)(cg_tensor *leaf, void *ctx);
void cg_set_grad_ready_hook(cg_grad_ready_fn fn, void *ctx);

// Set .grad to zeros (keeping its buffer). NULL or no grad yet: nothing to do.
void cg_zero_grad(cg_tensor *t);

// Grad mode. With it off, ops record nothing (torch.no_grad). Returns the previous mode:
//   bool prev = cg_set_grad_enabled(false); ... cg_set_grad_enabled(prev);
// Per thread, as in PyTorch: each thread starts with grad enabled, and setting it changes
// only the calling thread's mode.
bool cg_set_grad_enabled(bool enabled);
bool cg_is_grad_enabled(void);

// ---- freeing intermediates early (autograd/consumed.c) -------------------------------
// Free t now, because `result` was computed from it and t is needed no longer, if that is
// safe: no graph can reach t (grad mode is off, or neither t nor result requires grad or
// has a node), t belongs to the innermost open scope (so no node saved it, no module or
// caller took it, nobody cg_kept it; with no scope open nothing is freed), and t is neither
// `result` nor `keep` (NULL allowed: the caller's own input, which it does not own). Views
// of t stay valid (they hold the storage). Returns whether t was freed; if not, it lives on
// until its scope ends, as before; if only the graph kept it (training), t is marked
// internal (tensor.h) and backward frees t's .grad right after t's node has used it; and
// if result's node is t's only consumer and neither it nor t's node reads t's values
// (cg_node.unread, autograd/op.h), those are freed now (t->data becomes NULL). Only for
// tensors the caller made and has not shown to anyone: an evaluation pass then holds about
// two activations instead of all of them, and a training step neither the values nobody
// reads nor every intermediate's gradient.
// cg_Sequential, cg_Residual and module forwards that chain ops call it:
//   cg_tensor *h = cg_conv2d(x, w, NULL, NULL);
//   cg_tensor *y = cg_relu(h);
//   cg_free_consumed(h, x, y); // freed in eval under cg_set_grad_enabled(false)
// t NULL: nothing to do; keep and result may be NULL.
bool cg_free_consumed(cg_tensor *t, const cg_tensor *keep, const cg_tensor *result);

// ---- gradcheck -------------------------------------------------------------------
// Central finite differences against the analytic gradient of every input that requires
// grad. The output is reduced to a scalar L = sum(out * r) with a fixed random r, so every
// output element counts. An element passes if |analytic - numeric| <= atol + rtol*|numeric|.
// Defaults for float32 (zero fields): eps 1e-3, atol 1e-3, rtol 1e-2.
typedef cg_tensor *(*cg_gradcheck_fn)(cg_tensor **inputs, void *ctx);
typedef struct cg_gradcheck_options {
    float eps, atol, rtol;
    bool quiet; // do not print the first failing element
} cg_gradcheck_options;
typedef struct cg_gradcheck_result {
    bool ok;
    double max_abs_error; // largest |analytic - numeric|
    int failed_input;     // first failing input, -1 if none
    int64_t failed_index; // its flat element index
} cg_gradcheck_result;
cg_gradcheck_result cg_gradcheck(cg_gradcheck_fn fn, void *ctx, int n_inputs, cg_tensor **inputs,
                                 const cg_gradcheck_options *options);

// ---- graph export ------------------------------------------------------------------
// Graphviz DOT of the graph behind t: a box per op, an ellipse per tensor with its shape,
// leaves that require grad highlighted. `dot -Tpng graph.dot -o graph.png` draws it.
int cg_graph_to_dot(const cg_tensor *t, FILE *out);
int cg_graph_save_dot(const cg_tensor *t, const char *path);

#endif
