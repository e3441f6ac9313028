// ops/loss_class.c - cross_entropy and nll_loss as torch.nn.functional (1.13): class weights,
// ignore_index, label smoothing, probability targets and (N, C, d1, ..., dk) inputs, one op
// each with a closed-form backward.
//
// The input is read as (N, C, S): x[(n C + c) S + s], sample i = n S + s (S = d1 ... dk; an
// unbatched (C) input is N = S = 1). With class-index targets y_i, log-probabilities l
// (log_softmax for cross_entropy, the input itself for nll_loss), weights w (1 if none) and
// smoothing e, as ATen's nll_loss_nd + cross_entropy_loss_label_smoothing:
//   loss_i = (1 - e) w_y (-l_y) + e / C sum_c w_c (-l_c),  0 where y_i = ignore_index,
//   mean = sum_i loss_i / sum of w_y over the counted samples.
// With probability targets t (cross_entropy only): t' = (1 - e) t + e / C,
//   loss_i = -sum_c w_c t'_c l_c,  mean over the N S samples.
#include <math.h>
#include <string.h>

#include "loss_internal.h"

typedef struct class_plan {
    int64_t N, C, S;
    bool softmax; // cross_entropy
    bool soft;    // probability targets
    float ignore_index, smoothing;
    cg_loss_reduction reduce;
} class_plan;

enum { SAVED_TARGET, SAVED_LSE, SAVED_WEIGHT };

static bool check_weight(const char *op, const cg_tensor *w, int64_t C) {
    if (!w || (w->ndim == 1 && w->shape[0] == C)) return true;
    cg_error(CG_ERR_SHAPE, "%s: weight must be (C) = [%lld] (one per class), got %s", op,
             (long long)C, cg_tensor_shape_str(w));
    return false;
}

// The target fits as class indices (N, d1, ...) / () or, for cross_entropy, as
// probabilities of the input's shape.
static bool plan_shapes(const char *op, const char *input_name, const cg_tensor *x,
                        const cg_tensor *t, class_plan *p) {
    if (x->ndim == 0) {
        cg_error(CG_ERR_SHAPE, "%s: %s must be (N, C), (C) or (N, C, d1, ...), got a 0-d tensor",
                 op, input_name);
        return false;
    }
    bool batched = x->ndim >= 2;
    p->N = batched ? x->shape[0] : 1;
    p->C = x->shape[batched ? 1 : 0];
    p->S = 1;
    for (int d = 2; d < x->ndim; d++) p->S *= x->shape[d];
    p->soft = p->softmax && cg_same_shape(x, t);
    if (p->soft) return true;
    int64_t want[CG_MAX_DIMS];
    int nwant = batched ? x->ndim - 1 : 0;
    if (batched) want[0] = x->shape[0];
    for (int d = 2; d < x->ndim; d++) want[d - 1] = x->shape[d];
    bool fits = t->ndim == nwant;
    for (int d = 0; fits && d < nwant; d++) fits = t->shape[d] == want[d];
    if (!fits) {
        cg_error(CG_ERR_SHAPE, "%s: target %s does not fit %s %s: expected %s of class indices%s%s",
                 op, cg_tensor_shape_str(t), input_name, cg_tensor_shape_str(x),
                 nwant ? cg_shape_str(nwant, want) : "a 0-d tensor",
                 p->softmax ? " or probabilities shaped " : "",
                 p->softmax ? cg_tensor_shape_str(x) : "");
        return false;
    }
    return true;
}

// Every target is a whole number in [0, C) or the ignore_index.
static bool check_targets(const char *op, const cg_tensor *t, const class_plan *p) {
    for (int64_t i = 0; !p->soft && i < t->numel; i++) {
        float y = t->data[i];
        if (y == p->ignore_index) continue;
        if (!(y >= 0 && y < (float)p->C && y == floorf(y))) {
            cg_error(CG_ERR_ARG, "%s: target[%lld] = %g is not a class index in [0, %lld)", op,
                     (long long)i, (double)y, (long long)p->C);
            return false;
        }
    }
    return true;
}

static bool plan_classes(const char *op, const char *input_name, const cg_tensor *x,
                         const cg_tensor *t, const cg_loss_options *o, class_plan *p) {
    if (!plan_shapes(op, input_name, x, t, p) || !check_weight(op, o->weight, p->C)) return false;
    double ignore = cg_optional_or(o->ignore_index, -100);
    if (ignore != floor(ignore) || !isfinite(ignore)) {
        cg_error(CG_ERR_ARG, "%s: ignore_index=%g is not a whole number", op, ignore);
        return false;
    }
    if (p->soft && ignore >= 0) { // PyTorch's check, word for word
        cg_error(CG_ERR_ARG,
                 "%s: ignore_index is not supported for floating point target (ignore_index=%g "
                 "with probability targets of shape %s)",
                 op, ignore, cg_tensor_shape_str(t));
        return false;
    }
    if (!(o->label_smoothing >= 0 && o->label_smoothing <= 1)) {
        cg_error(CG_ERR_ARG, "%s: label_smoothing=%g must be in [0, 1]", op, o->label_smoothing);
        return false;
    }
    p->ignore_index = (float)ignore;
    p->smoothing = (float)o->label_smoothing;
    p->reduce.reduction = o->reduction;
    return check_targets(op, t, p);
}

static float weight_at(const float *w, int64_t c) {
    return w ? w[c] : 1.0f;
}

// log(sum_c exp(x_c)) over the C values at stride S (the row maximum subtracted first).
static float log_sum_exp(const float *x, int64_t C, int64_t S) {
    float max = -INFINITY;
    for (int64_t c = 0; c < C; c++) max = fmaxf(max, x[c * S]);
    double sum = 0;
    for (int64_t c = 0; c < C; c++) sum += exp((double)(x[c * S] - max));
    return max + (float)log(sum);
}

// The loss of sample (n, s) whose C values start at x with stride S; *counted gets the
// weight it adds to a mean's divisor.
static float sample_loss(const class_plan *p, const float *x, float lse, const float *t, int64_t i,
                         const float *w, double *counted) {
    float e = p->smoothing, C = (float)p->C;
    if (p->soft) {
        double sum = 0;
        for (int64_t c = 0; c < p->C; c++) {
            float tc = (1 - e) * t[c * p->S] + e / C;
            sum += weight_at(w, c) * tc * (x[c * p->S] - lse);
        }
        *counted = 1;
        return (float)-sum;
    }
    float y = t[i];
    if (y == p->ignore_index) return *counted = 0, 0.0f;
    int64_t k = (int64_t)y;
    *counted = weight_at(w, k);
    float value = (1 - e) * weight_at(w, k) * (lse - x[k * p->S]);
    if (e == 0) return value;
    double smooth = 0;
    for (int64_t c = 0; c < p->C; c++) smooth += weight_at(w, c) * (lse - x[c * p->S]);
    return value + e / C * (float)smooth;
}

// d loss_i / d x_j times a (the upstream gradient of loss_i), into dx (stride S):
//   class index, cross_entropy: (1 - e) w_y (p_j - [j = y]) + e / C (W p_j - w_j)
//   class index, nll_loss:      -(1 - e) w_y [j = y] - e / C w_j
//   probabilities:              p_j sum_c w_c t'_c - w_j t'_j
static void sample_grad(const class_plan *p, const float *x, float lse, const float *t, int64_t i,
                        const float *w, float a, float *dx) {
    float e = p->smoothing, C = (float)p->C;
    int64_t S = p->S;
    if (!p->soft && t[i] == p->ignore_index) return;
    double mass = 0; // sum_c w_c t'_c (soft), W (hard, smoothing only)
    for (int64_t c = 0; c < p->C; c++)
        mass += weight_at(w, c) * (p->soft ? (1 - e) * t[c * S] + e / C : 1.0f);
    int64_t k = p->soft ? -1 : (int64_t)t[i];
    for (int64_t j = 0; j < p->C; j++) {
        float prob = p->softmax ? expf(x[j * S] - lse) : 0.0f, wj = weight_at(w, j), g;
        if (p->soft) {
            g = prob * (float)mass - wj * ((1 - e) * t[j * S] + e / C);
        } else {
            float hit = j == k ? 1.0f : 0.0f;
            g = (1 - e) * weight_at(w, k) * (prob - hit);
            if (e != 0) g += e / C * ((float)mass * prob - wj);
        }
        dx[j * S] = a * g;
    }
}

// Offsets of sample i = n S + s: its first input value and its first target value.
static int64_t x_offset(const class_plan *p, int64_t i) {
    return (i / p->S) * p->C * p->S + i % p->S;
}

// Probability targets: d loss_i / d t_c = -(1 - e) w_c l_c, times a, into dt (stride S).
static void soft_target_grad(const class_plan *p, const float *x, float lse, const float *w,
                             float a, float *dt) {
    for (int64_t c = 0; c < p->C; c++)
        dt[c * p->S] = -a * (1 - p->smoothing) * weight_at(w, c) * (x[c * p->S] - lse);
}

static void class_loss_backward(cg_node *n, const cg_tensor *grad) {
    const class_plan *p = n->ctx;
    cg_tensor *x = n->inputs[0];
    const float *t = n->saved[SAVED_TARGET]->data;
    const float *lse = n->saved[SAVED_LSE] ? n->saved[SAVED_LSE]->data : NULL;
    const float *w = n->saved[SAVED_WEIGHT] ? n->saved[SAVED_WEIGHT]->data : NULL;
    cg_tensor *dx = cg_needs_grad(n, 0) ? cg_zeros_like(x) : NULL;
    cg_tensor *dt = p->soft && cg_needs_grad(n, 1) ? cg_empty_like(n->inputs[1]) : NULL;
    for (int64_t i = 0; i < p->N * p->S; i++) {
        int64_t off = x_offset(p, i);
        float a = cg_loss_grad_at(grad, i, p->reduce), l = lse ? lse[i] : 0.0f;
        if (dx) sample_grad(p, x->data + off, l, p->soft ? t + off : t, i, w, a, dx->data + off);
        if (dt) soft_target_grad(p, x->data + off, l, w, a, dt->data + off);
    }
    if (dx) cg_accumulate_grad(x, dx);
    if (dt) cg_accumulate_grad(n->inputs[1], dt);
}
const cg_op cg_op_cross_entropy = {"cross_entropy", class_loss_backward,
                                   "targets, log-sum-exp per sample, class weights"};
const cg_op cg_op_nll_loss = {"nll_loss", class_loss_backward, "targets, class weights"};

// The unreduced loss: the target's shape for class indices, the input's without C for
// probabilities.
static cg_tensor *per_sample(const cg_tensor *x, const cg_tensor *t, const class_plan *p) {
    if (!p->soft) return cg_empty(t->ndim, t->shape);
    if (x->ndim == 1) return cg_scalar(0.0f);
    int64_t shape[CG_MAX_DIMS];
    shape[0] = x->shape[0];
    for (int d = 2; d < x->ndim; d++) shape[d - 1] = x->shape[d];
    return cg_empty(x->ndim - 1, shape);
}

static cg_tensor *class_loss(const cg_op *op, const char *input_name, cg_tensor *x, cg_tensor *t,
                             const cg_loss_options *options) {
    unsigned accepted = LOSS_WEIGHT | LOSS_IGNORE_INDEX;
    if (op == &cg_op_cross_entropy) accepted |= LOSS_LABEL_SMOOTHING;
    cg_loss_options o;
    if (!cg_check_arg(x, op->name, input_name) || !cg_check_arg(t, op->name, "target") ||
        !cg_loss_options_check(op->name, options, accepted, &o))
        return NULL;
    class_plan p = {.softmax = op == &cg_op_cross_entropy};
    if (!plan_classes(op->name, input_name, x, t, &o, &p)) return NULL;
    int64_t samples = p.N * p.S;
    cg_tensor *values = per_sample(x, t, &p);
    cg_tensor *lse = p.softmax ? cg_empty(CG_SHAPE(samples)) : NULL;
    if (!values || (p.softmax && !lse)) {
        cg_free(values);
        cg_free(lse);
        return NULL;
    }
    const float *w = o.weight ? o.weight->data : NULL;
    double divisor = 0;
    for (int64_t i = 0; i < samples; i++) {
        int64_t off = x_offset(&p, i);
        float l = p.softmax ? log_sum_exp(x->data + off, p.C, p.S) : 0.0f;
        if (lse) lse->data[i] = l;
        double counted;
        values->data[i] =
            sample_loss(&p, x->data + off, l, p.soft ? t->data + off : t->data, i, w, &counted);
        divisor += counted;
    }
    p.reduce.divisor = divisor;
    cg_tensor *out = cg_loss_reduce(values, p.reduce);
    // Probability targets are differentiable, as in PyTorch; class indices are not.
    cg_node *n = out ? cg_record(out, op, p.soft ? 2 : 1, (cg_tensor *[]){x, t}) : NULL;
    if (!n) {
        cg_free(lse);
        return out;
    }
    cg_node_set_ctx(n, &p, sizeof p);
    cg_node_save(n, SAVED_TARGET, cg_from_data(t->ndim, t->shape, t->data));
    cg_node_save(n, SAVED_LSE, lse);
    if (w) cg_node_save(n, SAVED_WEIGHT, cg_from_data(CG_SHAPE(p.C), w));
    return out;
}

cg_tensor *cg_cross_entropy(cg_tensor *logits, cg_tensor *target, const cg_loss_options *options) {
    return class_loss(&cg_op_cross_entropy, "logits", logits, target, options);
}
cg_tensor *cg_nll_loss(cg_tensor *log_probs, const cg_tensor *target,
                       const cg_loss_options *options) {
    // Class indices only: the target is never recorded as an input, so never written.
    return class_loss(&cg_op_nll_loss, "log_probs", log_probs, (cg_tensor *)target, options);
}
