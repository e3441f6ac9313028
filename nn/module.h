// nn/module.h - the module interface every layer shares (torch.nn.Module).
//
// A module owns named parameters ("weight", "bias"), named buffers ("running_mean") and
// named children ("0", "features"); together they form a tree whose dotted names are
// PyTorch's state_dict names ("features.0.weight"). Parameters and buffers are created
// outside any scope and live until cg_module_free().
//
//   // NULL options are PyTorch's defaults: both Linear layers have a bias.
//   cg_module *model = cg_Sequential(3, (cg_module *[]){cg_Linear(4, 8, NULL), cg_ReLU(),
//                                                         cg_Linear(8, 1, NULL)});
//   cg_tensor *y = cg_module_forward(model, x);
//   ...
//   cg_module_free(model);
#ifndef CG_MODULE_H
#define CG_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../tensor/tensor.h"

#define CG_MODULE_MAX_TENSORS 8

typedef struct cg_module cg_module;

// What a kind of layer does; one static instance per layer type.
typedef struct cg_module_class {
    const char *name;                                  // "Conv2d", as PyTorch prints it
    cg_tensor *(*forward)(cg_module *m, cg_tensor *x); // x -> y, recording the graph
    void (*destroy)(cg_module *m);                     // frees m->impl's contents; may be NULL
    // One line like PyTorch's repr: "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))".
    void (*describe)(const cg_module *m, char *buf, size_t size);
    // Optional, both or neither: whether this module followed by `next` runs as one fused
    // op (Conv2d + ReLU: cg_conv2d_relu; ReLU + MaxPool2d: cg_relu_max_pool2d; BatchNorm +
    // ReLU: cg_batch_norm_relu; Conv2d + eval BatchNorm2d: a folded conv2d), and x
    // through that op (the same values and gradients as the two modules; the fold: up to
    // rounding). cg_Sequential uses them.
    bool (*pairs_with)(const cg_module *m, const cg_module *next);
    cg_tensor *(*forward_pair)(cg_module *m, cg_module *next, cg_tensor *x);
} cg_module_class;

struct cg_module {
    const cg_module_class *cls;
    bool training; // train mode (default) or eval mode
    int n_params;
    const char *param_names[CG_MODULE_MAX_TENSORS];
    cg_tensor *params[CG_MODULE_MAX_TENSORS];
    int n_buffers;
    const char *buffer_names[CG_MODULE_MAX_TENSORS];
    cg_tensor *buffers[CG_MODULE_MAX_TENSORS];
    int n_children;
    int64_t cap_children, cap_child_names; // tensor/array.h capacities
    char **child_names;
    cg_module **children;
    void *impl;        // the layer's configuration/state: the module's copy of `config`
    void *config_copy; // private: what cg_module_free frees (impl may be changed, not this)
};

// ---- using modules -----------------------------------------------------------------
cg_tensor *cg_module_forward(cg_module *m, cg_tensor *x);
// Whether m and next run as one fused op (m's class's pairs_with); false while
// cg_module_summary records every module's output.
bool cg_module_pairs(const cg_module *m, const cg_module *next);
// x through m and next as that op (the same values and gradients as running m and then
// next); NULL with an error if they do not pair.
cg_tensor *cg_module_forward_pair(cg_module *m, cg_module *next, cg_tensor *x);
void cg_module_free(cg_module *m);                 // frees the tree, its parameters and buffers
void cg_module_train(cg_module *m, bool training); // recursive, as model.train(mode)
void cg_module_eval(cg_module *m);                 // cg_module_train(m, false)
void cg_module_zero_grad(cg_module *m);            // zeroes every parameter's grad
int64_t
cg_module_num_parameters(const cg_module *m); // total elements of all parameters; -1 if m is NULL

// A flat list of (dotted name, tensor) (tensor/tensor.h); free with cg_tensor_list_free.
// count is -1 (items NULL) when the list could not be built (out of memory, reported):
// never a partial list.
// Parameters in registration order, depth first, as model.named_parameters().
cg_tensor_list cg_module_named_parameters(const cg_module *m);
// Parameters and buffers, as model.state_dict() orders them (per module: params, buffers).
cg_tensor_list cg_module_state_dict(const cg_module *m);
// The module at a dotted path ("features.0"); "" is m itself. NULL with an error naming
// the step that matches no child and listing the children that exist:
//   module_get: "features.7": Sequential has no child "7" (its children: 0, 1, 2)
cg_module *cg_module_get(cg_module *m, const char *path);

// Print the module tree as PyTorch's repr(model).
void cg_module_print(const cg_module *m, FILE *out);
// torchsummary-style table: layer, output shape, parameter count, totals. Runs one forward
// pass (no grad) on zeros of `input_shape` (including the batch dim) to learn the shapes.
int cg_module_summary(cg_module *m, int ndim, const int64_t *input_shape, FILE *out);

// ---- writing modules -----------------------------------------------------------------
// A forward that chains several ops hands each intermediate it is done with to
// cg_free_consumed (autograd/autograd.h), as cg_Sequential and cg_Residual do:
//   cg_tensor *h = cg_module_forward(m->children[0], x);
//   cg_tensor *y = cg_module_forward(m->children[1], h);
//   cg_free_consumed(h, x, y); // evaluation: h freed now; training: h's gradient freed once used
// Never for a tensor the module stores or returns.
// A new module of class `cls`, in training mode, with its own copy of `config_size` bytes
// at `config` (NULL and 0 for none) as m->impl, freed by cg_module_free. The module never
// frees memory it did not allocate: state a layer allocates itself (malloc or cg_alloc)
// is freed by the class's destroy function.
cg_module *cg_module_new(const cg_module_class *cls, const void *config, size_t config_size);
// Register a parameter/buffer (the module takes ownership; t leaves any scope; NULL is
// allowed for an absent bias and is skipped by the lists). Parameters get requires_grad.
cg_tensor *cg_module_add_param(cg_module *m, const char *name, cg_tensor *t);
cg_tensor *cg_module_add_buffer(cg_module *m, const char *name, cg_tensor *t);
// Register a child; names are copied. Returns child, or NULL (m or name NULL: an error,
// and child is freed, being taken over; child NULL: the error of its failed constructor).
cg_module *cg_module_add_child(cg_module *m, const char *name, cg_module *child);
// The named parameter/buffer of this module (not its children), or NULL (with an error only
// if m or name is NULL).
cg_tensor *cg_module_param(const cg_module *m, const char *name);
cg_tensor *cg_module_buffer(const cg_module *m, const char *name);

#endif
