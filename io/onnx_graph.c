// io/onnx_graph.c - the ONNX graph under construction: names of the traced tensors, nodes
// with their attributes, and initializers (the model's state under its state_dict names,
// and the small constants emitters need: shapes, axes, scalars).
#include <stdio.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/error.h"
#include "onnx_internal.h"

enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_INTS = 8, ATTR_TYPE = 20 };
enum { ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_INTS_TYPE = 7 };
enum { GRAPH_NODE = 1, GRAPH_INITIALIZER = 5 };

int cg_onnx_graph_init(cg_onnx_graph *g, const cg_module *model, int opset) {
    *g = (cg_onnx_graph){.opset = opset};
    if (!model) return 0;
    g->state = cg_module_state_dict(model);
    return g->state.count < 0 ? -1 : 0;
}

void cg_onnx_graph_free(cg_onnx_graph *g) {
    cg_pb_free(&g->nodes);
    cg_pb_free(&g->inits);
    if (g->state.count > 0) cg_tensor_list_free(&g->state);
    for (int64_t i = 0; i < g->n_named; i++) cg_dealloc(g->named[i].name);
    cg_dealloc(g->named);
    *g = (cg_onnx_graph){0};
}

const char *cg_onnx_name_of(const cg_onnx_graph *g, const cg_tensor *t) {
    for (int64_t i = 0; i < g->n_named; i++)
        if (g->named[i].t == t) return g->named[i].name;
    return NULL;
}

bool cg_onnx_set_name(cg_onnx_graph *g, const cg_tensor *t, const char *name) {
    if (strlen(name) >= CG_ONNX_NAME) {
        cg_error(CG_ERR_ARG, "onnx_export: the name '%s' is longer than %d characters", name,
                 CG_ONNX_NAME - 1);
        return false;
    }
    size_t size = strlen(name) + 1;
    char *copy = cg_alloc(size);
    if (!copy || cg_array_reserve(&g->named, &g->cap_named, g->n_named + 1, sizeof *g->named) < 0) {
        cg_dealloc(copy);
        return false;
    }
    memcpy(copy, name, size);
    g->named[g->n_named++] = (cg_onnx_named){t, copy};
    return true;
}

const char *cg_onnx_state_name(const cg_onnx_graph *g, const cg_tensor *t) {
    for (int i = 0; i < g->state.count; i++)
        if (g->state.items[i].tensor == t) return g->state.items[i].name;
    return NULL;
}

const cg_tensor *cg_onnx_state_tensor(const cg_onnx_graph *g, const char *name) {
    for (int i = 0; i < g->state.count; i++)
        if (strcmp(g->state.items[i].name, name) == 0) return g->state.items[i].tensor;
    return NULL;
}

const char *cg_onnx_temp(cg_onnx_graph *g, const char *hint, char *buf) {
    snprintf(buf, CG_ONNX_NAME, "%s_%lld", hint, (long long)g->next_id++);
    return buf;
}

const char *cg_onnx_leaf(cg_onnx_graph *g, const cg_tensor *t) {
    const char *name = cg_onnx_name_of(g, t);
    if (name) return name;
    if (!t->data) {
        cg_error(CG_ERR_STATE, "onnx_export: a constant %s of the graph was freed",
                 cg_tensor_shape_str(t));
        return NULL;
    }
    char buf[CG_ONNX_NAME];
    name = cg_onnx_state_name(g, t);
    if (!name) name = cg_onnx_temp(g, "const", buf);
    if (!cg_onnx_set_name(g, t, name)) return NULL;
    cg_onnx_tensor(&g->inits, GRAPH_INITIALIZER, name, t->ndim, t->shape, t->data, NULL);
    return cg_onnx_name_of(g, t);
}

const char *cg_onnx_const_ints(cg_onnx_graph *g, const char *hint, int n, const int64_t *v,
                               char *buf) {
    cg_onnx_temp(g, hint, buf);
    cg_onnx_tensor(&g->inits, GRAPH_INITIALIZER, buf, 1, (const int64_t[]){n}, NULL, v);
    return buf;
}

const char *cg_onnx_const_floats(cg_onnx_graph *g, const char *hint, int ndim, const int64_t *dims,
                                 const float *v, char *buf) {
    cg_onnx_temp(g, hint, buf);
    cg_onnx_tensor(&g->inits, GRAPH_INITIALIZER, buf, ndim, dims, v, NULL);
    return buf;
}

const char *cg_onnx_const_scalar(cg_onnx_graph *g, const char *hint, float v, char *buf) {
    return cg_onnx_const_floats(g, hint, 0, NULL, &v, buf);
}

// ---- nodes ----------------------------------------------------------------------------------
void cg_onnx_node_begin(cg_onnx_node *nd, cg_onnx_graph *g, const char *op_type, int n_in,
                        const char *const *in, const char *out) {
    *nd = (cg_onnx_node){.graph = g};
    char name[CG_ONNX_NAME];
    for (int i = 0; i < n_in; i++) cg_pb_string(&nd->pb, NODE_INPUT, in[i] ? in[i] : "");
    cg_pb_string(&nd->pb, NODE_OUTPUT, out);
    cg_pb_string(&nd->pb, NODE_NAME, cg_onnx_temp(g, op_type, name));
    cg_pb_string(&nd->pb, NODE_OP_TYPE, op_type);
}

// An AttributeProto: its name, its type and the value the caller writes into *a.
static void attr_begin(cg_pb *a, const char *name, int type) {
    *a = (cg_pb){0};
    cg_pb_string(a, ATTR_NAME, name);
    cg_pb_varint(a, ATTR_TYPE, (uint64_t)type);
}
static void attr_end(cg_onnx_node *nd, cg_pb *a) {
    cg_pb_message(&nd->pb, NODE_ATTRIBUTE, a);
    cg_pb_free(a);
}

void cg_onnx_attr_int(cg_onnx_node *nd, const char *name, int64_t v) {
    cg_pb a;
    attr_begin(&a, name, ATTR_INT);
    cg_pb_varint(&a, ATTR_I, (uint64_t)v);
    attr_end(nd, &a);
}

void cg_onnx_attr_float(cg_onnx_node *nd, const char *name, float v) {
    cg_pb a;
    attr_begin(&a, name, ATTR_FLOAT);
    cg_pb_float(&a, ATTR_F, v);
    attr_end(nd, &a);
}

void cg_onnx_attr_ints(cg_onnx_node *nd, const char *name, int n, const int64_t *v) {
    cg_pb a;
    attr_begin(&a, name, ATTR_INTS_TYPE);
    for (int i = 0; i < n; i++) cg_pb_varint(&a, ATTR_INTS, (uint64_t)v[i]);
    attr_end(nd, &a);
}

void cg_onnx_attr_string(cg_onnx_node *nd, const char *name, const char *s) {
    cg_pb a;
    attr_begin(&a, name, ATTR_STRING);
    cg_pb_string(&a, ATTR_S, s);
    attr_end(nd, &a);
}

void cg_onnx_node_output(cg_onnx_node *nd, const char *out) {
    cg_pb_string(&nd->pb, NODE_OUTPUT, out); // a repeated field: its entries keep their order
}

void cg_onnx_node_end(cg_onnx_node *nd) {
    cg_pb_message(&nd->graph->nodes, GRAPH_NODE, &nd->pb);
    cg_pb_free(&nd->pb);
}

void cg_onnx_simple(cg_onnx_graph *g, const char *op_type, int n_in, const char *const *in,
                    const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, op_type, n_in, in, out);
    cg_onnx_node_end(&nd);
}

void cg_onnx_slice(cg_onnx_graph *g, const char *x, int64_t start, int64_t end, int64_t axis,
                   const char *out) {
    char s[CG_ONNX_NAME], e[CG_ONNX_NAME], a[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "starts", 1, &start, s);
    cg_onnx_const_ints(g, "ends", 1, &end, e);
    cg_onnx_const_ints(g, "axes", 1, &axis, a);
    cg_onnx_simple(g, "Slice", 4, (const char *[]){x, s, e, a}, out);
}

// concat(shape(x)[0:2], the traced spatial sizes)
void cg_onnx_batch_shape(cg_onnx_graph *g, const char *x, int n_spatial, const int64_t *spatial,
                         const char *out) {
    char shape[CG_ONNX_NAME], nc[CG_ONNX_NAME], st[CG_ONNX_NAME], en[CG_ONNX_NAME],
        sp[CG_ONNX_NAME];
    cg_onnx_simple(g, "Shape", 1, &x, cg_onnx_temp(g, "shape", shape));
    cg_onnx_const_ints(g, "start", 1, (const int64_t[]){0}, st);
    cg_onnx_const_ints(g, "end", 1, (const int64_t[]){2}, en);
    cg_onnx_simple(g, "Slice", 3, (const char *[]){shape, st, en}, cg_onnx_temp(g, "nc", nc));
    cg_onnx_const_ints(g, "spatial", n_spatial, spatial, sp);
    cg_onnx_node cat;
    cg_onnx_node_begin(&cat, g, "Concat", 2, (const char *[]){nc, sp}, out);
    cg_onnx_attr_int(&cat, "axis", 0);
    cg_onnx_node_end(&cat);
}

void cg_onnx_module_of(const cg_onnx_graph *g, const cg_node *n, char *buf, size_t size) {
    buf[0] = '\0';
    for (int64_t i = 0; i < g->n_where; i++)
        if (g->where[i].node == n) {
            snprintf(buf, size, " (in module '%s')", g->where[i].module);
            return;
        }
    for (int i = 0; i < n->n_inputs && !buf[0]; i++) {
        const char *name = n->inputs[i] ? cg_onnx_state_name(g, n->inputs[i]) : NULL;
        const char *dot = name ? strrchr(name, '.') : NULL;
        if (dot) snprintf(buf, size, " (in module '%.*s')", (int)(dot - name), name);
    }
}

bool cg_onnx_refuse(const cg_onnx_graph *g, const cg_node *n, const char *why) {
    char where[CG_ONNX_NAME + 32];
    cg_onnx_module_of(g, n, where, sizeof where);
    cg_error(CG_ERR_ARG, "onnx_export: op '%s'%s cannot be exported: %s", n->op->name, where, why);
    return false;
}
