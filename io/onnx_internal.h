// io/onnx_internal.h - what the ONNX export files share: the protobuf encoder
// (io/onnx_proto.c), the graph under construction (io/onnx_graph.c) that the traced walk
// (io/onnx_trace.c) hands to the op emitters (io/onnx_ops*.c). Not installed.
#ifndef CG_ONNX_INTERNAL_H
#define CG_ONNX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../autograd/op.h"
#include "../nn/module.h"
#include "onnx.h"

// ---- the encoder: protobuf's wire format, only what ONNX needs -------------------------
// A growing byte buffer; `failed` is set once an allocation failed (reported by cg_alloc)
// and every later write is a no-op, so writers check once at the end.
typedef struct cg_pb {
    uint8_t *data;
    size_t len;
    int64_t cap; // tensor/array.h
    bool failed;
} cg_pb;

void cg_pb_free(cg_pb *b);
void cg_pb_varint(cg_pb *b, int field, uint64_t v);                   // wire type 0
void cg_pb_bytes(cg_pb *b, int field, const void *data, size_t size); // wire type 2
void cg_pb_string(cg_pb *b, int field, const char *s);                // wire type 2
void cg_pb_message(cg_pb *b, int field, const cg_pb *sub);            // sub as a field
void cg_pb_float(cg_pb *b, int field, float v);                       // wire type 5
void cg_pb_raw(cg_pb *b, const void *data, size_t size);              // already encoded

// ONNX messages (field numbers of onnx/onnx.proto).
enum { CG_ONNX_FLOAT = 1, CG_ONNX_INT64 = 7 }; // TensorProto.DataType
// A TensorProto: name, dims, data as raw little-endian bytes of float32 (floats) or int64
// (ints); exactly one of floats and ints is non-NULL.
void cg_onnx_tensor(cg_pb *b, int field, const char *name, int ndim, const int64_t *dims,
                    const float *floats, const int64_t *ints);
// A ValueInfoProto of a float tensor; dims[i] < 0 is the symbolic dim `param`.
void cg_onnx_value_info(cg_pb *b, int field, const char *name, int ndim, const int64_t *dims,
                        const char *param);

// ---- the graph being built (io/onnx_graph.c) ---------------------------------------------
#define CG_ONNX_NAME (CG_NAME_MAX + 32) // a state_dict name, or a generated one

// A tensor of the traced graph and its ONNX name (allocated on its own, so the names handed
// out stay valid while the array grows).
typedef struct cg_onnx_named {
    const cg_tensor *t;
    char *name;
} cg_onnx_named;

// The module path that was running when a node was recorded (cg_error_context()).
typedef struct cg_onnx_where {
    const cg_node *node;
    char *module;
} cg_onnx_where;

typedef struct cg_onnx_graph {
    cg_pb nodes, inits; // GraphProto's node and initializer fields, encoded
    int opset;
    int64_t next_id;      // for fresh names
    cg_tensor_list state; // the model's state_dict (count 0: no model)
    cg_onnx_named *named; // every tensor named so far: input, node outputs, initializers
    int64_t n_named, cap_named;
    const cg_onnx_where *where; // the traced nodes' modules (NULL: not traced here)
    int64_t n_where;
    int64_t batch; // the traced batch size when it is symbolic in the file, else 0
} cg_onnx_graph;

// 0, or -1 with an error (the state_dict could not be listed). model may be NULL.
int cg_onnx_graph_init(cg_onnx_graph *g, const cg_module *model, int opset);
void cg_onnx_graph_free(cg_onnx_graph *g);
// The name given to t, or NULL.
const char *cg_onnx_name_of(const cg_onnx_graph *g, const cg_tensor *t);
// Give t a name (copied); false with an error when out of memory or name is too long.
bool cg_onnx_set_name(cg_onnx_graph *g, const cg_tensor *t, const char *name);
// The name of leaf tensor t as an initializer, written on first use: its state_dict name,
// or a fresh "const_<k>" for a tensor that is not the model's. NULL with an error if its
// values are gone.
const char *cg_onnx_leaf(cg_onnx_graph *g, const cg_tensor *t);

// One NodeProto being written: cg_onnx_node_begin, attributes, cg_onnx_node_end.
typedef struct cg_onnx_node {
    cg_pb pb;
    cg_onnx_graph *graph;
} cg_onnx_node;

// Start a node of op_type with n_in inputs ("" for an absent optional one) and one output.
void cg_onnx_node_begin(cg_onnx_node *nd, cg_onnx_graph *g, const char *op_type, int n_in,
                        const char *const *in, const char *out);
void cg_onnx_attr_int(cg_onnx_node *nd, const char *name, int64_t v);
void cg_onnx_attr_float(cg_onnx_node *nd, const char *name, float v);
void cg_onnx_attr_ints(cg_onnx_node *nd, const char *name, int n, const int64_t *v);
void cg_onnx_attr_string(cg_onnx_node *nd, const char *name, const char *s);
// A further output (MaxPool's Indices), after the one cg_onnx_node_begin named.
void cg_onnx_node_output(cg_onnx_node *nd, const char *out);
void cg_onnx_node_end(cg_onnx_node *nd); // appends it to the graph
// A node without attributes: the common case.
void cg_onnx_simple(cg_onnx_graph *g, const char *op_type, int n_in, const char *const *in,
                    const char *out);

// x[start:end] along axis: a Slice with its constants.
void cg_onnx_slice(cg_onnx_graph *g, const char *x, int64_t start, int64_t end, int64_t axis,
                   const char *out);
// The int64 shape (N, C, spatial...) of a result computed from x (N, C, ...): x's (N, C)
// from its Shape, then the n_spatial traced sizes, so the batch stays free.
void cg_onnx_batch_shape(cg_onnx_graph *g, const char *x, int n_spatial, const int64_t *spatial,
                         const char *out);
// A fresh intermediate name ("<hint>_<k>") into buf (CG_ONNX_NAME bytes); returns buf.
const char *cg_onnx_temp(cg_onnx_graph *g, const char *hint, char *buf);
// New initializers under fresh names (hint as above), written into buf; returns buf.
const char *cg_onnx_const_ints(cg_onnx_graph *g, const char *hint, int n, const int64_t *v,
                               char *buf);
const char *cg_onnx_const_floats(cg_onnx_graph *g, const char *hint, int ndim, const int64_t *dims,
                                 const float *v, char *buf);
const char *cg_onnx_const_scalar(cg_onnx_graph *g, const char *hint, float v, char *buf);
// The state_dict name of t, or NULL when t is not a parameter or buffer of the model.
const char *cg_onnx_state_name(const cg_onnx_graph *g, const cg_tensor *t);
// The state_dict entry called `name`, or NULL.
const cg_tensor *cg_onnx_state_tensor(const cg_onnx_graph *g, const char *name);

// ---- the emitters ------------------------------------------------------------------------
// Write the ONNX nodes computing node n's output (named out) from its inputs (named in[i];
// NULL for an absent input such as a missing bias). false with an error naming the op when
// this occurrence cannot be exported (an option ONNX lacks).
typedef bool (*cg_onnx_emit_fn)(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                const char *out);
// The emitter of op, or NULL when the op cannot be exported.
cg_onnx_emit_fn cg_onnx_emitter(const cg_op *op);
// " (in module 'features.3')" for node n: the module that recorded it (g->where), else the
// module of its first parameter input; "" when neither is known.
void cg_onnx_module_of(const cg_onnx_graph *g, const cg_node *n, char *buf, size_t size);
// Report that node n cannot be exported, naming its module, and why (CG_ERR_ARG); returns
// false.
bool cg_onnx_refuse(const cg_onnx_graph *g, const cg_node *n, const char *why);
// A fixed-window pooling's kernel_shape, strides, pads, ceil_mode (when PyTorch's made the
// output larger) and, with `dilations`, dilations (io/onnx_ops_pool.c).
struct pool_geometry;
void cg_onnx_pool_window_attrs(cg_onnx_node *nd, const struct pool_geometry *p, bool dilations);
// The emitters of io/onnx_ops_layers.c, io/onnx_ops_pool.c, io/onnx_ops_unpool.c and
// io/onnx_ops_norm.c, listed by
// cg_onnx_emitter's table (io/onnx_ops.c).
#define CG_ONNX_EMITTER(name)                                                                      \
    bool cg_onnx_emit_##name(cg_onnx_graph *g, const cg_node *n, const char *const *in,            \
                             const char *out);
CG_ONNX_EMITTER(conv)
CG_ONNX_EMITTER(conv_relu)
CG_ONNX_EMITTER(conv_transpose)
CG_ONNX_EMITTER(linear)
CG_ONNX_EMITTER(max_pool)
CG_ONNX_EMITTER(avg_pool)
CG_ONNX_EMITTER(relu_max_pool)
CG_ONNX_EMITTER(max_unpool)
CG_ONNX_EMITTER(softmax)
CG_ONNX_EMITTER(reshape)
CG_ONNX_EMITTER(permute)
CG_ONNX_EMITTER(cat)
CG_ONNX_EMITTER(narrow)
CG_ONNX_EMITTER(pad)
CG_ONNX_EMITTER(interpolate)
CG_ONNX_EMITTER(prelu)
CG_ONNX_EMITTER(reduce)
CG_ONNX_EMITTER(var)
CG_ONNX_EMITTER(batch_norm)
CG_ONNX_EMITTER(instance_norm)
CG_ONNX_EMITTER(group_norm)
CG_ONNX_EMITTER(layer_norm)
#undef CG_ONNX_EMITTER

#endif
