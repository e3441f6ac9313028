// ops/unary.c - elementwise functions of one tensor (and tensor-scalar arithmetic).
//
// Every op here is y = f(x; a, b) elementwise. UNARY_OPS below lists the math, relu and
// gelu; ops/activations.def lists the other activations. Each line gives the forward f(v)
// and the derivative f'(v), written with the input v, the output out = f(v) and the op's
// scalars a, b, whichever is cheaper. One macro turns each line into a forward loop, a
// backward and the op's cg_op descriptor; the activations also get their public function.
#include <math.h>

#include "../autograd/op.h"
#include "../kernels/elementwise.h"
#include "activations.h"
#include "math.h"
#include "op_ctx_internal.h"
#include "../tensor/parallel.h"

// Pieces of the longer formulas, so each op still fits on its line.
static inline float normal_cdf(float v) {
    return 0.5f * (1.0f + erff(v * 0.70710678118654752f));
}
static inline float normal_pdf(float v) {
    return 0.39894228040143268f * expf(-0.5f * v * v);
}
static const float GELU_K = 0.79788456080286536f, GELU_C = 0.044715f; // sqrt(2/pi), cubic
static inline float sigmoidf(float v) {
    return 1.0f / (1.0f + expf(-v));
}
static inline float gelu_tanh_inner(float v) {
    return tanhf(GELU_K * (v + GELU_C * v * v * v));
}
static inline float gelu_tanh_cdf(float v) { // the tanh approximation of normal_cdf
    return 0.5f * (1.0f + gelu_tanh_inner(v));
}
static inline float gelu_tanh_grad(float v) {
    float t = gelu_tanh_inner(v);
    return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * GELU_K * (1.0f + 3 * GELU_C * v * v);
}
// as PyTorch's vectorised kernel: 0 below -3, x / 3 + 1/2 from -3 up to 3, 1 from 3 (NaN: NaN)
static inline float hardswish_grad(float v) {
    return v < -3.0f ? 0.0f : v >= 3.0f ? 1.0f : v / 3.0f + 0.5f;
}
static inline float softplus(float v, float beta, float threshold) {
    return v * beta > threshold ? v : log1pf(expf(v * beta)) / beta;
}
static inline float hardsigmoid(float v) { // min(max(v + 3, 0), 6) / 6, keeping NaN
    float s = v + 3;
    return s <= 0 ? 0.0f : s >= 6 ? 1.0f : s / 6;
}
static inline float mish_grad(float v) { // as PyTorch's: NaN at +-inf
    float t = tanhf(log1pf(expf(v)));
    return t + v * sigmoidf(v) * (1 - t * t);
}
// as PyTorch's: 1 - |z| / (1 + |z|), signed, with z = exp(-|v|)
static inline float logsigmoid_grad(float v) {
    float z = expf(-fabsf(v));
    return v < 0 ? 1 - z / (1 + z) : z / (1 + z);
}
// as autograd of PyTorch's v / (|v| + 1): d/dnumerator + d/ddenominator * sign (NaN at inf)
static inline float softsign_grad(float v) {
    float d = fabsf(v) + 1, sign = v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f;
    return 1 / d - v / (d * d) * sign;
}
static const float SELU_ALPHA = 1.6732632423543772f, SELU_SCALE = 1.0507009873554805f;

// X(name, what backward reads, forward of v, derivative of v / out)
// clang-format off
#define UNARY_OPS(X)                                                                               \
    X(neg,         "nothing", -v, -1.0f)                                                           \
    X(exp,         "output", expf(v), out)                                                         \
    X(log,         "input", logf(v), 1.0f / v)                                                     \
    X(sqrt,        "output", sqrtf(v), 0.5f / out)                                                 \
    X(abs,         "input", fabsf(v), v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f)                         \
    X(pow,         "input, exponent", powf(v, a), a == 0 ? 0.0f : a * powf(v, a - 1))              \
    X(clamp,       "input, bounds", fminf(fmaxf(v, a), b), v >= a && v <= b ? 1.0f : 0.0f)         \
    X(relu,        "output", v < 0 ? 0.0f : v, v <= 0 ? 0.0f : 1.0f)                                \
    X(gelu,        "input", v * normal_cdf(v), normal_cdf(v) + v * normal_pdf(v))                  \
    X(gelu_tanh,   "input", v * gelu_tanh_cdf(v), gelu_tanh_grad(v))                               \
    X(add_scalar,  "nothing", v + a, 1.0f)                                                         \
    X(mul_scalar,  "scalar", v * a, a)                                                             \
    X(div_scalar,  "scalar", v / a, 1.0f / a)                                                      \
    X(rsub_scalar, "nothing", a - v, -1.0f)                                                        \
    X(rdiv_scalar, "input, output", a / v, -out / v)
// clang-format on

// Elements [begin, end) of y = f(x), and of dx = g * f'(x) (y: the forward's output).
typedef void (*unary_forward)(const float *x, float *y, int64_t begin, int64_t end, unary_params p);
typedef void (*unary_derivative)(const float *x, const float *y, const float *g, float *dx,
                                 int64_t begin, int64_t end, unary_params p);

// One pass of either kind over n elements, on the thread team above CG_PARALLEL_MIN.
typedef struct unary_job {
    unary_forward forward;
    unary_derivative derivative;
    const float *x, *y, *g;
    float *out;
    unary_params p;
} unary_job;

static void unary_range(void *ctx, int64_t begin, int64_t end) {
    const unary_job *j = ctx;
    if (j->forward)
        j->forward(j->x, j->out, begin, end, j->p);
    else
        j->derivative(j->x, j->y, j->g, j->out, begin, end, j->p);
}

static void unary_run(unary_job j, int64_t n) {
    cg_parallel_for(n, CG_PARALLEL_MIN, unary_range, &j);
}

static void relu_derivative(const float *x, const float *y, const float *g, float *dx,
                            int64_t begin, int64_t end,
                            unary_params p); // defined by UNARY_OPS below

// dx = g * f'(x); n->ctx holds the op's scalars (NULL when it has none).
static void unary_backward(cg_node *n, const cg_tensor *grad, unary_derivative derivative) {
    cg_tensor *in = n->inputs[0];
    cg_tensor *dx = cg_empty_like(in);
    if (!dx) return;
    unary_params p = n->ctx ? *(const unary_params *)n->ctx : (unary_params){0, 0};
    // The hot one in training: branch-free and vectorised, and read off the output (y <= 0
    // exactly where x <= 0, NaN where x is NaN), as PyTorch's relu saves its result, so the
    // input's values can be freed (unary() marks them unread).
    if (derivative == relu_derivative)
        cg_relu_grad(n->output->data, grad->data, dx->data, in->numel);
    else
        unary_run((unary_job){.derivative = derivative,
                              .x = in->data,
                              .y = n->output->data,
                              .g = grad->data,
                              .out = dx->data,
                              .p = p},
                  in->numel);
    cg_accumulate_grad(in, dx);
}

#define DEFINE_UNARY(name, saves, forward, derivative)                                             \
    static void name##_forward(const float *x, float *y, int64_t begin, int64_t end,               \
                               unary_params p) {                                                   \
        float a = p.a, b = p.b;                                                                    \
        (void)a, (void)b;                                                                          \
        for (int64_t i = begin; i < end; i++) {                                                    \
            float v = x[i];                                                                        \
            y[i] = (forward);                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void name##_derivative(const float *x, const float *y, const float *g, float *dx,       \
                                  int64_t begin, int64_t end, unary_params p) {                    \
        float a = p.a, b = p.b;                                                                    \
        (void)a, (void)b;                                                                          \
        for (int64_t i = begin; i < end; i++) {                                                    \
            float v = x[i], out = y[i];                                                            \
            (void)v, (void)out;                                                                    \
            dx[i] = g[i] * (derivative);                                                           \
        }                                                                                          \
    }                                                                                              \
    static void name##_backward(cg_node *n, const cg_tensor *grad) {                               \
        unary_backward(n, grad, name##_derivative);                                                \
    }                                                                                              \
    const cg_op cg_op_##name = {#name, name##_backward, saves};
UNARY_OPS(DEFINE_UNARY)
#define ACTIVATION(name, Name, reads, forward, derivative, gradcheck)                              \
    DEFINE_UNARY(name, reads, forward, derivative)
#define ACTIVATION_1(name, Name, field, dflt, repr, valid, problem, reads, forward, derivative,    \
                     gradcheck)                                                                    \
    DEFINE_UNARY(name, reads, forward, derivative)
#define ACTIVATION_2(name, Name, field_a, default_a, repr_a, field_b, default_b, repr_b, valid,    \
                     problem, reads, forward, derivative, gradcheck)                               \
    DEFINE_UNARY(name, reads, forward, derivative)
#include "activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2

// y = f(x) with the op's scalars (NULL: none), recorded for backward.
static cg_tensor *unary(const cg_op *op, unary_forward forward, cg_tensor *x,
                        const unary_params *p) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    unary_run(
        (unary_job){
            .forward = forward, .x = x->data, .out = y->data, .p = p ? *p : (unary_params){0, 0}},
        x->numel);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n && p) cg_node_set_ctx(n, p, sizeof *p);
    if (n && op == &cg_op_relu) n->unread = CG_OP_INPUT_UNREAD(0); // unary_backward reads y
    return y;
}
#define UNARY(name, x)            unary(&cg_op_##name, name##_forward, x, NULL)
#define UNARY_WITH(name, x, a, b) unary(&cg_op_##name, name##_forward, x, &(unary_params){a, b})

// The public functions: cg_neg(x) ... without scalars, cg_pow(x, exponent) ... with one.
#define PUBLIC_UNARY(name)                                                                         \
    cg_tensor *cg_##name(cg_tensor *x) {                                                           \
        return UNARY(name, x);                                                                     \
    }
#define PUBLIC_UNARY_WITH(name, scalar)                                                            \
    cg_tensor *cg_##name(cg_tensor *x, float scalar) {                                             \
        return UNARY_WITH(name, x, scalar, 0);                                                     \
    }
cg_tensor *cg_clamp(cg_tensor *x, float min, float max) {
    if (min > max) return cg_error(CG_ERR_ARG, "clamp: min %g is greater than max %g", min, max);
    return UNARY_WITH(clamp, x, min, max);
}
cg_tensor *cg_gelu(cg_tensor *x, cg_gelu_approximate approximate) {
    if (approximate == CG_GELU_TANH) return UNARY(gelu_tanh, x);
    if (approximate != CG_GELU_NONE)
        return cg_error(CG_ERR_ARG, "gelu: unknown approximate %d (CG_GELU_NONE or CG_GELU_TANH)",
                        (int)approximate);
    return UNARY(gelu, x);
}
cg_tensor *cg_sub_scalar(cg_tensor *a, float s) {
    return UNARY_WITH(add_scalar, a, -s, 0);
}
cg_tensor *cg_rsub_scalar(float s, cg_tensor *a) {
    return UNARY_WITH(rsub_scalar, a, s, 0);
}
cg_tensor *cg_rdiv_scalar(float s, cg_tensor *a) {
    return UNARY_WITH(rdiv_scalar, a, s, 0);
}
// clang-format off
PUBLIC_UNARY(neg) PUBLIC_UNARY(exp) PUBLIC_UNARY(log) PUBLIC_UNARY(sqrt) PUBLIC_UNARY(abs)
PUBLIC_UNARY(relu)
PUBLIC_UNARY_WITH(pow, exponent) PUBLIC_UNARY_WITH(add_scalar, s) PUBLIC_UNARY_WITH(mul_scalar, s)
PUBLIC_UNARY_WITH(div_scalar, s)
// clang-format on

// The activations of ops/activations.def: their options resolved and checked
// (ops/activation_options.c), then the op. cg_activation_<name> describes the line.
#define OPTION(options, field) (options ? options->field : (cg_optional){0})
#define ACTIVATION(name, Name, reads, forward, derivative, gradcheck)                              \
    const cg_activation_spec cg_activation_##name = {#name, #Name, 0, {0}, {0}, {0}, NULL, ""};    \
    cg_tensor *cg_##name(cg_tensor *x) {                                                           \
        return UNARY(name, x);                                                                     \
    }
#define ACTIVATION_CHECK(name, valid)                                                              \
    static bool name##_valid(float a, float b) {                                                   \
        (void)a, (void)b;                                                                          \
        return valid;                                                                              \
    }
#define ACTIVATION_FUNCTION(name, ...)                                                             \
    cg_tensor *cg_##name(cg_tensor *x, const cg_##name##_options *options) {                       \
        float v[2];                                                                                \
        if (cg_activation_resolve(&cg_activation_##name, #name, (cg_optional[]){__VA_ARGS__}, v))  \
            return NULL;                                                                           \
        return UNARY_WITH(name, x, v[0], v[1]);                                                    \
    }
#define ACTIVATION_1(name, Name, field, dflt, repr, valid, problem, ...)                           \
    ACTIVATION_CHECK(name, valid)                                                                  \
    const cg_activation_spec cg_activation_##name = {                                              \
        #name, #Name, 1, {#field}, {dflt}, {repr}, name##_valid, problem};                         \
    ACTIVATION_FUNCTION(name, OPTION(options, field))
#define ACTIVATION_2(name, Name, field_a, default_a, repr_a, field_b, default_b, repr_b, valid,    \
                     problem, ...)                                                                 \
    ACTIVATION_CHECK(name, valid)                                                                  \
    const cg_activation_spec cg_activation_##name = {                                              \
        #name,        #Name,  2, {#field_a, #field_b}, {default_a, default_b}, {repr_a, repr_b},   \
        name##_valid, problem};                                                                    \
    ACTIVATION_FUNCTION(name, OPTION(options, field_a), OPTION(options, field_b))
#include "activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2
