// ops/loss_elementwise.c - the elementwise losses of torch.nn.functional (1.13): mse_loss,
// l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy (on probabilities),
// binary_cross_entropy_with_logits (weight, pos_weight) and kl_div. One op each over one
// loop: value_i = f(x_i, t_i), with input and target broadcast to the output's shape, then
// the reduction. Backward gives d f / d x and d f / d t at the output's shape and lets
// cg_accumulate_grad sum them back to broadcast inputs.
#include <math.h>
#include <string.h>

#include "loss_internal.h"

typedef enum { MSE, L1, SMOOTH_L1, HUBER, BCE, BCE_WITH_LOGITS, KL_DIV } elementwise_loss;

typedef struct elementwise_plan {
    elementwise_loss kind;
    float param; // smooth_l1's beta, huber's delta
    bool log_target;
    bool dense; // input and target have the output's shape: element i reads both at i
    cg_loss_reduction reduce;
    int ndim; // the output's shape, and the input's and target's strides read at it
    int64_t shape[CG_MAX_DIMS], x_strides[CG_MAX_DIMS], t_strides[CG_MAX_DIMS];
} elementwise_plan;

enum { SAVED_WEIGHT, SAVED_POS_WEIGHT }; // materialised at the output's shape

// Where output element i reads the input (*xo) and the target (*to). The divisions cost more
// than the loss itself, so the common case of equal shapes skips them.
static void offsets(const elementwise_plan *p, int64_t i, int64_t *xo, int64_t *to) {
    *xo = *to = 0;
    if (p->dense) {
        *xo = *to = i;
        return;
    }
    for (int d = p->ndim - 1; d >= 0; d--) {
        int64_t k = i % p->shape[d];
        i /= p->shape[d];
        *xo += k * p->x_strides[d];
        *to += k * p->t_strides[d];
    }
}

static float sign(float d) {
    return (float)((d > 0) - (d < 0));
}
static float softplus_neg(float x) { // log(1 + exp(-x)), stable
    return log1pf(expf(-fabsf(x))) + fmaxf(-x, 0.0f);
}

// f(x, t) for one element; w and pw are the weight and pos_weight there (1 if none).
static float loss_value(const elementwise_plan *p, float x, float t, float w, float pw) {
    float d = x - t, a = fabsf(d), b = p->param;
    switch (p->kind) {
    case MSE:
        return d * d;
    case L1:
        return a;
    case SMOOTH_L1:
        return b == 0 || a >= b ? a - 0.5f * b : 0.5f * d * d / b;
    case HUBER:
        return a < b ? 0.5f * d * d : b * (a - 0.5f * b);
    case BCE:
        return w * ((t - 1) * fmaxf(log1pf(-x), -100.0f) - t * fmaxf(logf(x), -100.0f));
    case BCE_WITH_LOGITS:
        return w * ((1 - t) * x + (1 + (pw - 1) * t) * softplus_neg(x));
    case KL_DIV:
        if (p->log_target) return expf(t) * (t - x);
        return (t == 0 ? 0.0f : t * logf(t)) - t * x;
    }
    return NAN;
}

// d f / d x (*dx) and d f / d t (*dt) for one element.
static void loss_grads(const elementwise_plan *p, float x, float t, float w, float pw, float *dx,
                       float *dt) {
    float d = x - t, b = p->param;
    switch (p->kind) {
    case MSE:
        *dx = 2.0f * d, *dt = -*dx;
        return;
    case L1:
        *dx = sign(d), *dt = -*dx;
        return;
    case SMOOTH_L1:
        *dx = b == 0 || fabsf(d) >= b ? sign(d) : d / b, *dt = -*dx;
        return;
    case HUBER:
        *dx = d < -b ? -b : d > b ? b : d, *dt = -*dx;
        return;
    case BCE:
        *dx = w * (x - t) / fmaxf((1 - x) * x, 1e-12f);
        *dt = w * (log1pf(-x) - logf(x));
        return;
    case BCE_WITH_LOGITS: {
        float lw = 1 + (pw - 1) * t, sigmoid_neg = 1.0f / (1.0f + expf(x));
        *dx = w * ((1 - t) - lw * sigmoid_neg);
        *dt = w * (-x + (pw - 1) * softplus_neg(x));
        return;
    }
    case KL_DIV:
        if (p->log_target) {
            *dx = -expf(t), *dt = expf(t) * (t - x + 1);
        } else {
            *dx = -t, *dt = t == 0 ? NAN : logf(t) + 1 - x; // NaN at t = 0 as PyTorch (xlogy)
        }
        return;
    }
}

static void elementwise_loss_backward(cg_node *n, const cg_tensor *grad) {
    const elementwise_plan *p = n->ctx;
    cg_tensor *x = n->inputs[0], *t = n->inputs[1];
    const cg_tensor *wt = n->saved[SAVED_WEIGHT], *pwt = n->saved[SAVED_POS_WEIGHT];
    bool want_x = cg_needs_grad(n, 0), want_t = cg_needs_grad(n, 1);
    cg_tensor *dx = want_x ? cg_empty(p->ndim, p->shape) : NULL;
    cg_tensor *dt = want_t ? cg_empty(p->ndim, p->shape) : NULL;
    if ((want_x && !dx) || (want_t && !dt)) return;
    int64_t numel = dx ? dx->numel : dt->numel;
    for (int64_t i = 0; i < numel; i++) {
        int64_t xo, to;
        offsets(p, i, &xo, &to);
        float g = cg_loss_grad_at(grad, i, p->reduce), gx = 0, gt = 0;
        loss_grads(p, x->data[xo], t->data[to], wt ? wt->data[i] : 1.0f, pwt ? pwt->data[i] : 1.0f,
                   &gx, &gt);
        if (dx) dx->data[i] = g * gx;
        if (dt) dt->data[i] = g * gt;
    }
    if (dx) cg_accumulate_grad(x, dx);
    if (dt) cg_accumulate_grad(t, dt);
}

#define ELEMENTWISE_OP(name)                                                                       \
    const cg_op cg_op_##name = {#name, elementwise_loss_backward, "weights"};
ELEMENTWISE_OP(mse_loss)
ELEMENTWISE_OP(l1_loss)
ELEMENTWISE_OP(smooth_l1_loss)
ELEMENTWISE_OP(huber_loss)
ELEMENTWISE_OP(binary_cross_entropy)
ELEMENTWISE_OP(binary_cross_entropy_with_logits)
ELEMENTWISE_OP(kl_div)

// Input and target broadcast to the output's shape (or must be equal, for the BCE losses).
static bool plan_shapes(const char *op, const cg_tensor *x, const cg_tensor *t, bool same,
                        elementwise_plan *p) {
    bool ok = cg_same_shape(x, t);
    if (!ok && !same) {
        ok = cg_broadcast_shapes(x->ndim, x->shape, t->ndim, t->shape, &p->ndim, p->shape, op);
        if (!ok) cg_clear_error(); // replaced by the message below
    }
    if (!ok) {
        cg_error(CG_ERR_SHAPE, "%s: input %s and target %s must have the same shape%s", op,
                 cg_tensor_shape_str(x), cg_tensor_shape_str(t),
                 same ? "" : " or broadcast (PyTorch's rules)");
        return false;
    }
    p->dense = cg_same_shape(x, t);
    if (p->dense) {
        p->ndim = x->ndim;
        for (int d = 0; d < x->ndim; d++) p->shape[d] = x->shape[d];
    }
    cg_broadcast_strides(x->ndim, x->shape, p->ndim, p->shape, p->x_strides);
    cg_broadcast_strides(t->ndim, t->shape, p->ndim, p->shape, p->t_strides);
    return true;
}

// w broadcast to the output's shape as a new tensor (NULL if w is NULL or on error).
static cg_tensor *spread(const char *op, const char *name, const cg_tensor *w,
                         const elementwise_plan *p, bool *ok) {
    *ok = true;
    if (!w) return NULL;
    int nb;
    int64_t b[CG_MAX_DIMS], strides[CG_MAX_DIMS];
    bool fits = cg_broadcast_shapes(w->ndim, w->shape, p->ndim, p->shape, &nb, b, op) &&
                nb == p->ndim && memcmp(b, p->shape, (size_t)nb * sizeof *b) == 0;
    cg_clear_error();
    cg_tensor *out = fits ? cg_empty(p->ndim, p->shape) : NULL;
    if (!out) {
        *ok = false;
        cg_error(CG_ERR_SHAPE, "%s: %s %s does not broadcast to the input's shape %s", op, name,
                 cg_tensor_shape_str(w), cg_shape_str(p->ndim, p->shape));
        return NULL;
    }
    cg_broadcast_strides(w->ndim, w->shape, p->ndim, p->shape, strides);
    elementwise_plan reader = *p; // read w through the "input" strides
    reader.dense = false;
    for (int d = 0; d < p->ndim; d++) reader.x_strides[d] = strides[d];
    for (int64_t i = 0; i < out->numel; i++) {
        int64_t wo, unused;
        offsets(&reader, i, &wo, &unused);
        out->data[i] = w->data[wo];
    }
    return out;
}

// BCE's input must hold probabilities, as PyTorch checks.
static bool check_probabilities(const char *op, const cg_tensor *x) {
    for (int64_t i = 0; i < x->numel; i++) {
        if (!(x->data[i] >= 0 && x->data[i] <= 1)) {
            cg_error(CG_ERR_ARG, "%s: input[%lld] = %g is not a probability in [0, 1]", op,
                     (long long)i, (double)x->data[i]);
            return false;
        }
    }
    return true;
}

// Which options each loss has (beyond reduction).
static unsigned accepted_options(elementwise_loss kind) {
    switch (kind) {
    case SMOOTH_L1:
        return LOSS_BETA;
    case HUBER:
        return LOSS_DELTA;
    case BCE:
        return LOSS_WEIGHT;
    case BCE_WITH_LOGITS:
        return LOSS_WEIGHT | LOSS_POS_WEIGHT;
    case KL_DIV:
        return LOSS_LOG_TARGET | LOSS_BATCHMEAN;
    case MSE:
    case L1:
        break;
    }
    return 0;
}

static cg_tensor *elementwise(elementwise_loss kind, const cg_op *op, cg_tensor *x, cg_tensor *t,
                              const cg_loss_options *options) {
    cg_loss_options o;
    if (!cg_check_arg(x, op->name, "input") || !cg_check_arg(t, op->name, "target") ||
        !cg_loss_options_check(op->name, options, accepted_options(kind), &o))
        return NULL;
    elementwise_plan p = {.kind = kind, .log_target = o.log_target};
    p.param =
        kind == HUBER ? (float)(o.delta != 0 ? o.delta : 1.0) : (float)cg_optional_or(o.beta, 1.0);
    if (!(p.param >= 0) || (kind == HUBER && !(p.param > 0)))
        return cg_error(CG_ERR_ARG, "%s: %s=%g must be %s", op->name,
                        kind == HUBER ? "delta" : "beta", (double)p.param,
                        kind == HUBER ? "> 0" : ">= 0");
    if (!plan_shapes(op->name, x, t, kind == BCE || kind == BCE_WITH_LOGITS, &p)) return NULL;
    if (kind == BCE && !check_probabilities(op->name, x)) return NULL;
    bool ok_w, ok_pw;
    cg_tensor *w = spread(op->name, "weight", o.weight, &p, &ok_w);
    cg_tensor *pw = ok_w ? spread(op->name, "pos_weight", o.pos_weight, &p, &ok_pw) : NULL;
    cg_tensor *values = ok_w && ok_pw ? cg_empty(p.ndim, p.shape) : NULL;
    if (!values) {
        cg_free(w);
        cg_free(pw);
        return NULL;
    }
    for (int64_t i = 0; i < values->numel; i++) {
        int64_t xo, to;
        offsets(&p, i, &xo, &to);
        values->data[i] = loss_value(&p, x->data[xo], t->data[to], w ? w->data[i] : 1.0f,
                                     pw ? pw->data[i] : 1.0f);
    }
    p.reduce = (cg_loss_reduction){o.reduction, (double)values->numel};
    if (o.reduction == CG_REDUCTION_BATCHMEAN) p.reduce.divisor = x->ndim ? (double)x->shape[0] : 1;
    cg_tensor *out = cg_loss_reduce(values, p.reduce);
    cg_node *n = out ? cg_record(out, op, 2, (cg_tensor *[]){x, t}) : NULL;
    if (!n) {
        cg_free(w);
        cg_free(pw);
        return out;
    }
    cg_node_set_ctx(n, &p, sizeof p);
    if (w) cg_node_save(n, SAVED_WEIGHT, w);
    if (pw) cg_node_save(n, SAVED_POS_WEIGHT, pw);
    return out;
}

cg_tensor *cg_mse_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options) {
    return elementwise(MSE, &cg_op_mse_loss, input, target, options);
}
cg_tensor *cg_l1_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options) {
    return elementwise(L1, &cg_op_l1_loss, input, target, options);
}
cg_tensor *cg_smooth_l1_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options) {
    return elementwise(SMOOTH_L1, &cg_op_smooth_l1_loss, input, target, options);
}
cg_tensor *cg_huber_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options) {
    return elementwise(HUBER, &cg_op_huber_loss, input, target, options);
}
cg_tensor *cg_binary_cross_entropy(cg_tensor *probs, cg_tensor *target,
                                   const cg_loss_options *options) {
    return elementwise(BCE, &cg_op_binary_cross_entropy, probs, target, options);
}
cg_tensor *cg_binary_cross_entropy_with_logits(cg_tensor *logits, cg_tensor *target,
                                               const cg_loss_options *options) {
    return elementwise(BCE_WITH_LOGITS, &cg_op_binary_cross_entropy_with_logits, logits, target,
                       options);
}
cg_tensor *cg_kl_div(cg_tensor *input, cg_tensor *target, const cg_loss_options *options) {
    return elementwise(KL_DIV, &cg_op_kl_div, input, target, options);
}
