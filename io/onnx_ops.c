// io/onnx_ops.c - the one table from a recorded op (by its registry name, ops/ops.def) to
// the function writing it as ONNX nodes, reading the op's node: its inputs, its output's
// shape and its context (ops/op_ctx_internal.h and the family headers). Fused ops write
// their two parts (conv2d_relu: Conv, Relu). Ops without a row cannot be exported.
// The norm family's emitters are in io/onnx_ops_norm.c.
#include <string.h>

#include "../ops/op_ctx_internal.h"
#include "../tensor/error.h"
#include "onnx_internal.h"

typedef const char *const *names;

// x -> op_type -> out, one input: the plain elementwise ops.
static void unary(cg_onnx_graph *g, const char *op_type, const char *x, const char *out) {
    cg_onnx_simple(g, op_type, 1, &x, out);
}
static void binary(cg_onnx_graph *g, const char *op_type, const char *a, const char *b,
                   const char *out) {
    cg_onnx_simple(g, op_type, 2, (const char *[]){a, b}, out);
}
// out = x op_type scalar (scalar first when `scalar_first`).
static void with_scalar(cg_onnx_graph *g, const char *op_type, const char *x, float v,
                        bool scalar_first, const char *out) {
    char c[CG_ONNX_NAME];
    cg_onnx_const_scalar(g, "scalar", v, c);
    binary(g, op_type, scalar_first ? c : x, scalar_first ? x : c, out);
}
static float param_a(const cg_node *n) {
    return n->ctx ? ((const unary_params *)n->ctx)->a : 0;
}
static float param_b(const cg_node *n) {
    return n->ctx ? ((const unary_params *)n->ctx)->b : 0;
}
// Clip(x, lo, hi): opset 13 takes the bounds as inputs.
static void clip(cg_onnx_graph *g, const char *x, float lo, float hi, const char *out) {
    char a[CG_ONNX_NAME], b[CG_ONNX_NAME];
    cg_onnx_const_scalar(g, "min", lo, a);
    cg_onnx_const_scalar(g, "max", hi, b);
    cg_onnx_simple(g, "Clip", 3, (const char *[]){x, a, b}, out);
}

// ---- elementwise ---------------------------------------------------------------------------
#define SIMPLE(fn, op_type)                                                                        \
    static bool fn(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {                \
        (void)n;                                                                                   \
        cg_onnx_simple(g, op_type, n->n_inputs, in, out);                                          \
        return true;                                                                               \
    }
SIMPLE(emit_add, "Add")
SIMPLE(emit_sub, "Sub")
SIMPLE(emit_mul, "Mul")
SIMPLE(emit_div, "Div")
SIMPLE(emit_neg, "Neg")
SIMPLE(emit_exp, "Exp")
SIMPLE(emit_log, "Log")
SIMPLE(emit_sqrt, "Sqrt")
SIMPLE(emit_abs, "Abs")
SIMPLE(emit_relu, "Relu")
SIMPLE(emit_sigmoid, "Sigmoid")
SIMPLE(emit_tanh, "Tanh")
SIMPLE(emit_softsign, "Softsign")
SIMPLE(emit_matmul, "MatMul")
SIMPLE(emit_copy, "Identity")

// Scalar arithmetic: the scalar is the op's `a` (add_scalar holds -s for a subtraction).
#define SCALAR(fn, op_type, first)                                                                 \
    static bool fn(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {                \
        with_scalar(g, op_type, in[0], param_a(n), first, out);                                    \
        return true;                                                                               \
    }
SCALAR(emit_add_scalar, "Add", false)
SCALAR(emit_mul_scalar, "Mul", false)
SCALAR(emit_div_scalar, "Div", false)
SCALAR(emit_rsub_scalar, "Sub", true)
SCALAR(emit_rdiv_scalar, "Div", true)
SCALAR(emit_pow, "Pow", false)

static bool emit_add_relu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char sum[CG_ONNX_NAME];
    binary(g, "Add", in[0], in[1], cg_onnx_temp(g, "add", sum));
    unary(g, "Relu", sum, out);
    return true;
}

static bool emit_clamp(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    clip(g, in[0], param_a(n), param_b(n), out);
    return true;
}
static bool emit_relu6(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    clip(g, in[0], 0, 6, out);
    return true;
}
static bool emit_hardtanh(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    clip(g, in[0], param_a(n), param_b(n), out);
    return true;
}

// x * f(x) for f an ONNX op: silu (Sigmoid), tanhshrink's subtraction below.
static bool emit_silu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char s[CG_ONNX_NAME];
    unary(g, "Sigmoid", in[0], cg_onnx_temp(g, "sigmoid", s));
    binary(g, "Mul", in[0], s, out);
    return true;
}
static bool emit_mish(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char sp[CG_ONNX_NAME], t[CG_ONNX_NAME];
    unary(g, "Softplus", in[0], cg_onnx_temp(g, "softplus", sp));
    unary(g, "Tanh", sp, cg_onnx_temp(g, "tanh", t));
    binary(g, "Mul", in[0], t, out);
    return true;
}
static bool emit_tanhshrink(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char t[CG_ONNX_NAME];
    unary(g, "Tanh", in[0], cg_onnx_temp(g, "tanh", t));
    binary(g, "Sub", in[0], t, out);
    return true;
}
static void hardsigmoid(cg_onnx_graph *g, const char *x, const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "HardSigmoid", 1, &x, out);
    cg_onnx_attr_float(&nd, "alpha", 1.0f / 6);
    cg_onnx_attr_float(&nd, "beta", 0.5f);
    cg_onnx_node_end(&nd);
}
static bool emit_hardsigmoid(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    hardsigmoid(g, in[0], out);
    return true;
}
// HardSwish exists from opset 14; before, x * HardSigmoid(x).
static bool emit_hardswish(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    if (g->opset >= 14) {
        unary(g, "HardSwish", in[0], out);
        return true;
    }
    char h[CG_ONNX_NAME];
    hardsigmoid(g, in[0], cg_onnx_temp(g, "hardsigmoid", h));
    binary(g, "Mul", in[0], h, out);
    return true;
}
static bool emit_selu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Selu", 1, in, out);
    cg_onnx_attr_float(&nd, "alpha", 1.6732632423543772f);
    cg_onnx_attr_float(&nd, "gamma", 1.0507009873554805f);
    cg_onnx_node_end(&nd);
    return true;
}
// logsigmoid(x) = -softplus(-x), which stays finite where log(sigmoid(x)) underflows.
static bool emit_logsigmoid(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char neg[CG_ONNX_NAME], sp[CG_ONNX_NAME];
    unary(g, "Neg", in[0], cg_onnx_temp(g, "neg", neg));
    unary(g, "Softplus", neg, cg_onnx_temp(g, "softplus", sp));
    unary(g, "Neg", sp, out);
    return true;
}
// One float attribute named `attr` from the op's `a`.
static void one_attr(cg_onnx_graph *g, const char *op_type, const char *x, const char *attr,
                     float v, const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, op_type, 1, &x, out);
    cg_onnx_attr_float(&nd, attr, v);
    cg_onnx_node_end(&nd);
}
static bool emit_leaky_relu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    one_attr(g, "LeakyRelu", in[0], "alpha", param_a(n), out);
    return true;
}
static bool emit_elu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    one_attr(g, "Elu", in[0], "alpha", param_a(n), out);
    return true;
}
static bool emit_celu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    one_attr(g, "Celu", in[0], "alpha", param_a(n), out);
    return true;
}
// Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0.
static void shrink(cg_onnx_graph *g, const char *x, float lambd, float bias, const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Shrink", 1, &x, out);
    cg_onnx_attr_float(&nd, "lambd", lambd);
    cg_onnx_attr_float(&nd, "bias", bias);
    cg_onnx_node_end(&nd);
}
static bool emit_softshrink(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    shrink(g, in[0], param_a(n), param_a(n), out);
    return true;
}
static bool emit_hardshrink(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    shrink(g, in[0], param_a(n), 0, out);
    return true;
}
// where(x > threshold, x, value); the comparison written once for softplus and threshold.
static void where_greater(cg_onnx_graph *g, const char *cmp, float threshold, const char *then,
                          const char *otherwise, const char *out) {
    char t[CG_ONNX_NAME], c[CG_ONNX_NAME];
    cg_onnx_const_scalar(g, "threshold", threshold, t);
    binary(g, "Greater", cmp, t, cg_onnx_temp(g, "above", c));
    cg_onnx_simple(g, "Where", 3, (const char *[]){c, then, otherwise}, out);
}
static bool emit_threshold(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    char v[CG_ONNX_NAME];
    cg_onnx_const_scalar(g, "value", param_b(n), v);
    where_greater(g, in[0], param_a(n), in[0], v, out);
    return true;
}
// softplus(x; beta, threshold) = x * beta > threshold ? x : Softplus(beta * x) / beta.
static bool emit_softplus(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    char bx[CG_ONNX_NAME], sp[CG_ONNX_NAME], sb[CG_ONNX_NAME];
    float beta = param_a(n);
    with_scalar(g, "Mul", in[0], beta, false, cg_onnx_temp(g, "beta_x", bx));
    unary(g, "Softplus", bx, cg_onnx_temp(g, "softplus", sp));
    with_scalar(g, "Div", sp, beta, false, cg_onnx_temp(g, "softplus_beta", sb));
    where_greater(g, bx, param_b(n), in[0], sb, out);
    return true;
}
// GELU has no ONNX op before opset 20: 0.5 * x * (1 + erf(x / sqrt(2))).
static bool emit_gelu(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char s[CG_ONNX_NAME], e[CG_ONNX_NAME], p[CG_ONNX_NAME], m[CG_ONNX_NAME];
    with_scalar(g, "Mul", in[0], 0.70710678118654752f, false, cg_onnx_temp(g, "scaled", s));
    unary(g, "Erf", s, cg_onnx_temp(g, "erf", e));
    with_scalar(g, "Add", e, 1, false, cg_onnx_temp(g, "one_plus", p));
    binary(g, "Mul", in[0], p, cg_onnx_temp(g, "x_cdf", m));
    with_scalar(g, "Mul", m, 0.5f, false, out);
    return true;
}
// gelu(approximate='tanh'): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
static bool emit_gelu_tanh(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)n;
    char x2[CG_ONNX_NAME], x3[CG_ONNX_NAME], c[CG_ONNX_NAME], inner[CG_ONNX_NAME], k[CG_ONNX_NAME],
        t[CG_ONNX_NAME], p[CG_ONNX_NAME], m[CG_ONNX_NAME];
    binary(g, "Mul", in[0], in[0], cg_onnx_temp(g, "x2", x2));
    binary(g, "Mul", x2, in[0], cg_onnx_temp(g, "x3", x3));
    with_scalar(g, "Mul", x3, 0.044715f, false, cg_onnx_temp(g, "cubic", c));
    binary(g, "Add", in[0], c, cg_onnx_temp(g, "inner", inner));
    with_scalar(g, "Mul", inner, 0.79788456080286536f, false, cg_onnx_temp(g, "scaled", k));
    unary(g, "Tanh", k, cg_onnx_temp(g, "tanh", t));
    with_scalar(g, "Add", t, 1, false, cg_onnx_temp(g, "one_plus", p));
    binary(g, "Mul", in[0], p, cg_onnx_temp(g, "x_cdf", m));
    with_scalar(g, "Mul", m, 0.5f, false, out);
    return true;
}

// Dropout is recorded only in training mode (in eval mode it returns its input).
static bool emit_dropout(cg_onnx_graph *g, const cg_node *n, names in, const char *out) {
    (void)g, (void)in, (void)out;
    return cg_onnx_refuse(g, n,
                          "dropout in training mode: put the model in eval mode "
                          "(cg_module_eval) before exporting");
}

// ---- the table ------------------------------------------------------------------------------
// One row per exportable op of ops/ops.def; ops/activations.def's activations are all here.
static const struct {
    const char *op;
    cg_onnx_emit_fn emit;
} table[] = {
    {"add", emit_add},
    {"sub", emit_sub},
    {"mul", emit_mul},
    {"div", emit_div},
    {"add_relu", emit_add_relu},
    {"neg", emit_neg},
    {"exp", emit_exp},
    {"log", emit_log},
    {"sqrt", emit_sqrt},
    {"abs", emit_abs},
    {"pow", emit_pow},
    {"clamp", emit_clamp},
    {"relu", emit_relu},
    {"gelu", emit_gelu},
    {"gelu_tanh", emit_gelu_tanh},
    {"add_scalar", emit_add_scalar},
    {"mul_scalar", emit_mul_scalar},
    {"div_scalar", emit_div_scalar},
    {"rsub_scalar", emit_rsub_scalar},
    {"rdiv_scalar", emit_rdiv_scalar},
    {"sigmoid", emit_sigmoid},
    {"tanh", emit_tanh},
    {"silu", emit_silu},
    {"mish", emit_mish},
    {"hardswish", emit_hardswish},
    {"hardsigmoid", emit_hardsigmoid},
    {"relu6", emit_relu6},
    {"selu", emit_selu},
    {"logsigmoid", emit_logsigmoid},
    {"softsign", emit_softsign},
    {"tanhshrink", emit_tanhshrink},
    {"leaky_relu", emit_leaky_relu},
    {"elu", emit_elu},
    {"celu", emit_celu},
    {"hardtanh", emit_hardtanh},
    {"softplus", emit_softplus},
    {"threshold", emit_threshold},
    {"softshrink", emit_softshrink},
    {"hardshrink", emit_hardshrink},
    {"prelu", cg_onnx_emit_prelu},
    {"sum", cg_onnx_emit_reduce},
    {"mean", cg_onnx_emit_reduce},
    {"max", cg_onnx_emit_reduce},
    {"min", cg_onnx_emit_reduce},
    {"var", cg_onnx_emit_var},
    {"softmax", cg_onnx_emit_softmax},
    {"log_softmax", cg_onnx_emit_softmax},
    {"softmin", cg_onnx_emit_softmax},
    {"matmul", emit_matmul},
    {"reshape", cg_onnx_emit_reshape},
    {"permute", cg_onnx_emit_permute},
    {"copy", emit_copy},
    {"cat", cg_onnx_emit_cat},
    {"narrow", cg_onnx_emit_narrow},
    {"linear", cg_onnx_emit_linear},
    {"dropout", emit_dropout},
    {"max_pool2d", cg_onnx_emit_max_pool},
    {"relu_max_pool2d", cg_onnx_emit_relu_max_pool},
    {"avg_pool2d", cg_onnx_emit_avg_pool},
    {"adaptive_avg_pool2d", cg_onnx_emit_avg_pool},
    {"adaptive_max_pool2d", cg_onnx_emit_max_pool},
    {"max_unpool2d", cg_onnx_emit_max_unpool},
    {"batch_norm2d", cg_onnx_emit_batch_norm},
    {"batch_norm1d", cg_onnx_emit_batch_norm},
    {"batch_norm_relu", cg_onnx_emit_batch_norm},
    {"instance_norm", cg_onnx_emit_instance_norm},
    {"group_norm", cg_onnx_emit_group_norm},
    {"layer_norm", cg_onnx_emit_layer_norm},
    {"interpolate", cg_onnx_emit_interpolate},
    {"conv2d", cg_onnx_emit_conv},
    {"conv2d_relu", cg_onnx_emit_conv_relu},
    {"conv_transpose2d", cg_onnx_emit_conv_transpose},
    {"conv1d", cg_onnx_emit_conv},
    {"conv_transpose1d", cg_onnx_emit_conv_transpose},
    {"pad", cg_onnx_emit_pad},
};

cg_onnx_emit_fn cg_onnx_emitter(const cg_op *op) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].op, op->name) == 0) return table[i].emit;
    return NULL;
}
