// io/onnx_trace.c - ONNX export by tracing: one forward pass records the graph
// (autograd/op.h), a depth-first walk from the output names every tensor and hands each
// node to its op's emitter (io/onnx_ops.c), and the nodes, initializers, input and output
// are wrapped into a ModelProto (ir_version 8) written atomically.
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/record_hook_internal.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/error.h"
#include "atomic_file_internal.h"
#include "onnx_internal.h"

enum { DEFAULT_OPSET = 17, MIN_OPSET = 13, MAX_OPSET = 17, IR_VERSION = 8 };
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER = 2, MODEL_GRAPH = 7, MODEL_OPSET = 8 };
enum { OPSET_VERSION = 2, GRAPH_NAME = 2, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12 };

// A tensor without node: an initializer. One that is not the model's, as large as the batch
// in dim 0, was most likely computed from the input outside the graph (a comparison, an op
// run with grad mode off): frozen into the file it would be wrong for other inputs, and of
// the wrong size for other batch sizes. Refused (register a true constant as a buffer).
static const char *constant(cg_onnx_graph *g, const cg_tensor *t) {
    if (g->batch > 1 && t->ndim >= 2 && t->shape[0] == g->batch && !cg_onnx_state_name(g, t)) {
        cg_error(CG_ERR_ARG,
                 "onnx_export: a tensor of shape %s that is not the model's reaches the graph "
                 "without a recorded op (computed from the input by an op that records nothing, "
                 "such as a comparison?): its values would be frozen into the file; register a "
                 "constant as a buffer (cg_module_add_buffer)",
                 cg_tensor_shape_str(t));
        return NULL;
    }
    return cg_onnx_leaf(g, t);
}

// Name t, emitting what computes it first (its node's inputs, then the node itself).
static const char *visit(cg_onnx_graph *g, const cg_tensor *t, const cg_tensor *output) {
    const char *known = cg_onnx_name_of(g, t);
    if (known) return known;
    const cg_node *n = t->node;
    if (!n) return constant(g, t);
    const char *in[CG_MAX_OP_INPUTS] = {NULL};
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !(in[i] = visit(g, n->inputs[i], output))) return NULL;
    cg_onnx_emit_fn emit = cg_onnx_emitter(n->op);
    if (!emit) {
        char where[CG_ONNX_NAME + 32];
        cg_onnx_module_of(g, n, where, sizeof where);
        cg_error(CG_ERR_ARG, "onnx_export: op '%s'%s cannot be exported to ONNX", n->op->name,
                 where);
        return NULL;
    }
    char buf[CG_ONNX_NAME];
    const char *name = t == output ? "output" : cg_onnx_temp(g, n->op->name, buf);
    if (!cg_onnx_set_name(g, t, name) || !emit(g, n, in, name)) return NULL;
    return cg_onnx_name_of(g, t);
}

// The graph's input or output description: dim 0 symbolic ("N") when dynamic.
static void io_value(cg_pb *b, int field, const char *name, const cg_tensor *t, bool dynamic) {
    int64_t dims[CG_MAX_DIMS];
    memcpy(dims, t->shape, sizeof dims);
    if (dynamic && t->ndim > 0) dims[0] = -1;
    cg_onnx_value_info(b, field, name, t->ndim, dims, "N");
}

static int model_bytes(const cg_onnx_graph *g, const cg_tensor *input, const cg_tensor *output,
                       bool dynamic, cg_onnx_bytes *out) {
    cg_pb graph = {0}, opset = {0}, model = {0};
    cg_pb_raw(&graph, g->nodes.data, g->nodes.len);
    cg_pb_raw(&graph, g->inits.data, g->inits.len);
    cg_pb_string(&graph, GRAPH_NAME, "cgrad");
    io_value(&graph, GRAPH_INPUT, "input", input, dynamic);
    // The output's first dim follows the batch when it has the input's batch size.
    bool batch_out = dynamic && output->ndim > 0 && output->shape[0] == input->shape[0];
    io_value(&graph, GRAPH_OUTPUT, "output", output, batch_out);
    cg_pb_varint(&opset, OPSET_VERSION, (uint64_t)g->opset);
    cg_pb_varint(&model, MODEL_IR_VERSION, IR_VERSION);
    cg_pb_string(&model, MODEL_PRODUCER, "cgrad");
    cg_pb_message(&model, MODEL_GRAPH, &graph);
    cg_pb_message(&model, MODEL_OPSET, &opset);
    bool ok =
        !graph.failed && !opset.failed && !model.failed && !g->nodes.failed && !g->inits.failed;
    cg_pb_free(&graph);
    cg_pb_free(&opset);
    if (!ok) {
        cg_pb_free(&model);
        return -1;
    }
    *out = (cg_onnx_bytes){model.data, model.len}; // the caller frees it (cg_onnx_bytes_free)
    return 0;
}

static int resolve_opset(const cg_onnx_options *o) {
    int opset = o && o->opset ? o->opset : DEFAULT_OPSET;
    if (opset < MIN_OPSET || opset > MAX_OPSET) {
        cg_error(CG_ERR_ARG, "onnx_export: opset %d is not supported (%d to %d)", opset, MIN_OPSET,
                 MAX_OPSET);
        return -1;
    }
    return opset;
}

void cg_onnx_bytes_free(cg_onnx_bytes *bytes) {
    if (!bytes) return;
    cg_dealloc(bytes->data);
    *bytes = (cg_onnx_bytes){0};
}

// The modules that recorded the traced nodes (autograd/record_hook_internal.h).
typedef struct where_list {
    cg_onnx_where *items;
    int64_t n, cap;
} where_list;

static void note_module(cg_node *node, void *ctx) {
    where_list *w = ctx;
    const char *path = cg_error_context(); // cg_module_forward's path of the running module
    if (!path[0]) return;
    size_t size = strlen(path) + 1;
    char *copy = cg_alloc(size);
    if (!copy || CG_ARRAY_PUSH(w->items, w->n, w->cap, ((cg_onnx_where){node, copy})) < 0) {
        cg_dealloc(copy); // reported; the refusals then name the module by its parameters
        return;
    }
    memcpy(copy, path, size);
}

static void where_free(where_list *w) {
    for (int64_t i = 0; i < w->n; i++) cg_dealloc(w->items[i].module);
    cg_dealloc(w->items);
}

static int export_graph(const cg_module *model, const cg_tensor *input, const cg_tensor *output,
                        const cg_onnx_options *options, const where_list *where,
                        cg_onnx_bytes *out) {
    if (!out) {
        cg_error(CG_ERR_ARG, "onnx_export: argument 'out' is NULL");
        return -1;
    }
    *out = (cg_onnx_bytes){0};
    if (!cg_check_arg(input, "onnx_export", "input") ||
        !cg_check_arg(output, "onnx_export", "output"))
        return -1;
    int opset = resolve_opset(options);
    if (opset < 0) return -1;
    if (input->ndim == 0) {
        cg_error(CG_ERR_ARG, "onnx_export: the input needs a batch dim, got a 0-d tensor");
        return -1;
    }
    if (output != input && !output->node) {
        cg_error(CG_ERR_ARG,
                 "onnx_export: the output %s has no graph: trace it with grad mode on from an "
                 "input that requires grad",
                 cg_tensor_shape_str(output));
        return -1;
    }
    cg_onnx_graph g;
    if (cg_onnx_graph_init(&g, model, opset) < 0) return -1;
    if (where) g.where = where->items, g.n_where = where->n;
    if (!(options && options->static_batch)) g.batch = input->shape[0];
    int rc = -1;
    if (cg_onnx_set_name(&g, input, "input")) {
        if (output == input) // nothing computed (an identity model): one Identity node
            cg_onnx_simple(&g, "Identity", 1, (const char *[]){"input"}, "output");
        if (output == input || visit(&g, output, output))
            rc = model_bytes(&g, input, output, !(options && options->static_batch), out);
    }
    cg_onnx_graph_free(&g);
    return rc;
}

int cg_onnx_export_graph(const cg_module *model, const cg_tensor *input, const cg_tensor *output,
                         const cg_onnx_options *options, cg_onnx_bytes *out) {
    return export_graph(model, input, output, options, NULL, out);
}

static int write_file(const char *path, const uint8_t *bytes, size_t size) {
    cg_atomic_file af;
    if (cg_atomic_open(&af, path, "onnx_export") < 0) return -1;
    if (fwrite(bytes, 1, size, af.f) != size) af.failed = true;
    return cg_atomic_commit(&af);
}

// What the trace changes in the model, put back afterwards: buffers (running statistics)
// a training-mode forward updates, and parameters' requires_grad, set for the trace so
// that every parameter is a named input of its op (frozen ones would let Sequential fold
// a BatchNorm into the convolution before it, giving unnamed constants).
typedef struct saved_state {
    cg_tensor *t;
    float *values; // a buffer's values; NULL for a parameter
    bool requires_grad;
} saved_state;

static int save_state(const cg_module *m, saved_state **saved, int64_t *n, int64_t *cap) {
    for (int i = 0; i < m->n_params; i++) {
        cg_tensor *t = m->params[i];
        if (!t) continue;
        if (CG_ARRAY_PUSH(*saved, *n, *cap, ((saved_state){t, NULL, t->requires_grad})) < 0)
            return -1;
        t->requires_grad = true;
    }
    for (int i = 0; i < m->n_buffers; i++) {
        cg_tensor *t = m->buffers[i];
        if (!t) continue;
        float *values = cg_alloc((size_t)t->numel * sizeof(float) + 1);
        if (!values || CG_ARRAY_PUSH(*saved, *n, *cap, ((saved_state){t, values, false})) < 0) {
            cg_dealloc(values);
            return -1;
        }
        memcpy(values, t->data, (size_t)t->numel * sizeof(float));
    }
    for (int i = 0; i < m->n_children; i++)
        if (save_state(m->children[i], saved, n, cap) < 0) return -1;
    return 0;
}

static void restore_state(saved_state *saved, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        cg_tensor *t = saved[i].t;
        if (saved[i].values)
            memcpy(t->data, saved[i].values, (size_t)t->numel * sizeof(float));
        else
            t->requires_grad = saved[i].requires_grad;
        cg_dealloc(saved[i].values);
    }
    cg_dealloc(saved);
}

// Trace model on a copy of example and export the graph into *bytes.
static int trace(cg_module *model, const cg_tensor *example, const cg_onnx_options *options,
                 cg_onnx_bytes *bytes) {
    int rc = -1;
    where_list where = {0};
    cg_scope_begin(); // the traced graph and its activations end with the scope
    bool prev = cg_set_grad_enabled(true);
    cg_tensor *x = cg_from_data(example->ndim, example->shape, example->data);
    cg_set_record_hook(note_module, &where);
    cg_tensor *y = x ? cg_module_forward(model, cg_requires_grad(x, true)) : NULL;
    cg_set_record_hook(NULL, NULL);
    cg_set_grad_enabled(prev);
    if (y) rc = export_graph(model, x, y, options, &where, bytes);
    cg_scope_end();
    where_free(&where);
    return rc;
}

int cg_onnx_export(cg_module *model, const cg_tensor *example, const char *path,
                   const cg_onnx_options *options) {
    if (!model) {
        cg_error(CG_ERR_ARG, "onnx_export: argument 'model' is NULL");
        return -1;
    }
    if (!cg_check_arg(example, "onnx_export", "example")) return -1;
    if (!path) {
        cg_error(CG_ERR_ARG, "onnx_export: argument 'path' is NULL");
        return -1;
    }
    if (resolve_opset(options) < 0) return -1;
    if (example->ndim == 0) {
        cg_error(CG_ERR_ARG, "onnx_export: the example input needs a batch dim, got a 0-d tensor");
        return -1;
    }
    saved_state *saved = NULL;
    int64_t n = 0, cap = 0;
    cg_onnx_bytes bytes = {0};
    int rc = save_state(model, &saved, &n, &cap);
    if (rc == 0) rc = trace(model, example, options, &bytes);
    restore_state(saved, n);
    if (rc == 0) rc = write_file(path, bytes.data, bytes.size);
    cg_onnx_bytes_free(&bytes);
    return rc;
}
