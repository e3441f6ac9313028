// tensor/unary.c - elementwise functions of one tensor (and tensor-scalar arithmetic).
//
// Every op here is y = f(x; s1, s2) elementwise, so they share one forward loop and one
// backward, each a switch over the op; the cg_op descriptors give each its own name.
#include <math.h>

#include "../autograd/op.h"
#include "../kernels/elementwise.h"
#include "math.h"
#include "../tensor/parallel.h"

typedef enum {
    NEG,
    EXP,
    LOG,
    SQRT,
    ABS,
    POW,
    CLAMP,
    RELU,
    LEAKY_RELU,
    SIGMOID,
    TANH,
    ADD_SCALAR,
    MUL_SCALAR,
    DIV_SCALAR,
    RSUB_SCALAR,
    RDIV_SCALAR,
} unary_kind;

static void unary_forward(unary_kind k, const float *x, float *y, int64_t n, float s1, float s2) {
#define LOOP(expr)                                                                                 \
    _Pragma("omp parallel for num_threads(cg_num_threads()) if (n > 1 << 16)") for (int64_t i = 0; \
                                                                                    i < n; i++) {  \
        float v = x[i];                                                                            \
        y[i] = (expr);                                                                             \
    }                                                                                              \
    break
    switch (k) {
    case NEG:
        LOOP(-v);
    case EXP:
        LOOP(expf(v));
    case LOG:
        LOOP(logf(v));
    case SQRT:
        LOOP(sqrtf(v));
    case ABS:
        LOOP(fabsf(v));
    case POW:
        LOOP(powf(v, s1));
    case CLAMP:
        LOOP(fminf(fmaxf(v, s1), s2));
    case RELU:
        LOOP(v > 0 ? v : 0.0f);
    case LEAKY_RELU:
        LOOP(v > 0 ? v : v * s1);
    case SIGMOID:
        LOOP(1.0f / (1.0f + expf(-v)));
    case TANH:
        LOOP(tanhf(v));
    case ADD_SCALAR:
        LOOP(v + s1);
    case MUL_SCALAR:
        LOOP(v * s1);
    case DIV_SCALAR:
        LOOP(v / s1);
    case RSUB_SCALAR:
        LOOP(s1 - v);
    case RDIV_SCALAR:
        LOOP(s1 / v);
    }
#undef LOOP
}

// dx = g * f'(x), written with x and y = f(x), whichever is cheaper.
static void unary_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *in = n->inputs[0];
    unary_kind k = (unary_kind)n->args[0];
    float s1 = (float)n->args[1], s2 = (float)n->args[2];
    const float *x = in->data, *y = n->output->data, *g = grad->data;
    cg_tensor *dx_t = cg_empty_like(in);
    if (!dx_t) return;
    float *dx = dx_t->data;
    int64_t count = in->numel;
#define LOOP(expr)                                                                                 \
    _Pragma(                                                                                       \
        "omp parallel for num_threads(cg_num_threads()) if (count > 1 << 16)") for (int64_t i = 0; \
                                                                                    i < count;     \
                                                                                    i++) {         \
        float v = x[i], out = y[i];                                                                \
        (void)v;                                                                                   \
        (void)out;                                                                                 \
        dx[i] = g[i] * (expr);                                                                     \
    }                                                                                              \
    break
    switch (k) {
    case NEG:
        LOOP(-1.0f);
    case EXP:
        LOOP(out);
    case LOG:
        LOOP(1.0f / v);
    case SQRT:
        LOOP(0.5f / out);
    case ABS:
        LOOP(v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f);
    case POW:
        LOOP(s1 == 0 ? 0.0f : s1 * powf(v, s1 - 1.0f));
    case CLAMP:
        LOOP(v >= s1 && v <= s2 ? 1.0f : 0.0f);
    case RELU:
        cg_relu_grad(x, g, dx, count); // branch-free and vectorised: the hot one in training
        break;
    case LEAKY_RELU:
        LOOP(v > 0 ? 1.0f : s1);
    case SIGMOID:
        LOOP(out * (1.0f - out));
    case TANH:
        LOOP(1.0f - out * out);
    case ADD_SCALAR:
        LOOP(1.0f);
    case MUL_SCALAR:
        LOOP(s1);
    case DIV_SCALAR:
        LOOP(1.0f / s1);
    case RSUB_SCALAR:
        LOOP(-1.0f);
    case RDIV_SCALAR:
        LOOP(-out / v);
    }
#undef LOOP
    (void)s2;
    cg_accumulate_grad(in, dx_t);
}

const cg_op cg_op_neg = {"neg", unary_backward, "nothing"};
const cg_op cg_op_exp = {"exp", unary_backward, "output"};
const cg_op cg_op_log = {"log", unary_backward, "input"};
const cg_op cg_op_sqrt = {"sqrt", unary_backward, "output"};
const cg_op cg_op_abs = {"abs", unary_backward, "input"};
const cg_op cg_op_pow = {"pow", unary_backward, "input, exponent"};
const cg_op cg_op_clamp = {"clamp", unary_backward, "input, bounds"};
const cg_op cg_op_relu = {"relu", unary_backward, "input"};
const cg_op cg_op_leaky_relu = {"leaky_relu", unary_backward, "input, slope"};
const cg_op cg_op_sigmoid = {"sigmoid", unary_backward, "output"};
const cg_op cg_op_tanh = {"tanh", unary_backward, "output"};
const cg_op cg_op_add_scalar = {"add_scalar", unary_backward, "nothing"};
const cg_op cg_op_mul_scalar = {"mul_scalar", unary_backward, "scalar"};
const cg_op cg_op_div_scalar = {"div_scalar", unary_backward, "scalar"};
const cg_op cg_op_rsub_scalar = {"rsub_scalar", unary_backward, "nothing"};
const cg_op cg_op_rdiv_scalar = {"rdiv_scalar", unary_backward, "input, output"};

static cg_tensor *unary(unary_kind k, const cg_op *op, cg_tensor *x, float s1, float s2) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    unary_forward(k, x->data, y->data, x->numel, s1, s2);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n) {
        n->args[0] = k;
        n->args[1] = s1;
        n->args[2] = s2;
    }
    return y;
}

cg_tensor *cg_neg(cg_tensor *x) {
    return unary(NEG, &cg_op_neg, x, 0, 0);
}
cg_tensor *cg_exp(cg_tensor *x) {
    return unary(EXP, &cg_op_exp, x, 0, 0);
}
cg_tensor *cg_log(cg_tensor *x) {
    return unary(LOG, &cg_op_log, x, 0, 0);
}
cg_tensor *cg_sqrt(cg_tensor *x) {
    return unary(SQRT, &cg_op_sqrt, x, 0, 0);
}
cg_tensor *cg_abs(cg_tensor *x) {
    return unary(ABS, &cg_op_abs, x, 0, 0);
}
cg_tensor *cg_pow(cg_tensor *x, float e) {
    return unary(POW, &cg_op_pow, x, e, 0);
}
cg_tensor *cg_relu(cg_tensor *x) {
    return unary(RELU, &cg_op_relu, x, 0, 0);
}
cg_tensor *cg_sigmoid(cg_tensor *x) {
    return unary(SIGMOID, &cg_op_sigmoid, x, 0, 0);
}
cg_tensor *cg_tanh(cg_tensor *x) {
    return unary(TANH, &cg_op_tanh, x, 0, 0);
}
cg_tensor *cg_leaky_relu(cg_tensor *x, float slope) {
    return unary(LEAKY_RELU, &cg_op_leaky_relu, x, slope, 0);
}
cg_tensor *cg_clamp(cg_tensor *x, float min, float max) {
    if (min > max) return cg_error(CG_ERR_ARG, "clamp: min %g is greater than max %g", min, max);
    return unary(CLAMP, &cg_op_clamp, x, min, max);
}
cg_tensor *cg_add_scalar(cg_tensor *a, float s) {
    return unary(ADD_SCALAR, &cg_op_add_scalar, a, s, 0);
}
cg_tensor *cg_sub_scalar(cg_tensor *a, float s) {
    return unary(ADD_SCALAR, &cg_op_add_scalar, a, -s, 0);
}
cg_tensor *cg_mul_scalar(cg_tensor *a, float s) {
    return unary(MUL_SCALAR, &cg_op_mul_scalar, a, s, 0);
}
cg_tensor *cg_div_scalar(cg_tensor *a, float s) {
    return unary(DIV_SCALAR, &cg_op_div_scalar, a, s, 0);
}
cg_tensor *cg_rsub_scalar(float s, cg_tensor *a) {
    return unary(RSUB_SCALAR, &cg_op_rsub_scalar, a, s, 0);
}
cg_tensor *cg_rdiv_scalar(float s, cg_tensor *a) {
    return unary(RDIV_SCALAR, &cg_op_rdiv_scalar, a, s, 0);
}
