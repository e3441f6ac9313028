// nn/loss.c - cross_entropy, nll_loss, mse_loss and binary_cross_entropy_with_logits, as
// torch.nn.functional, each one op with a closed-form backward.
//
// Every loss first computes one value per sample (class losses) or per element (elementwise
// losses), then reduces them: mean, sum or none. In backward the upstream gradient of
// value i is g[i] (none), g/count (mean) or g (sum) - loss_grad_at below.
#include <math.h>

#include "../autograd/op.h"
#include "loss.h"

// ---- reduction, shared by every loss ------------------------------------------------------

static bool check_reduction(cg_reduction r, const char *op) {
    if (r == CG_REDUCTION_MEAN || r == CG_REDUCTION_SUM || r == CG_REDUCTION_NONE) return true;
    cg_error(CG_ERR_ARG, "%s: unknown reduction %d", op, (int)r);
    return false;
}

// Reduce the per-value losses in `values` as asked: itself (none) or a new 0-d tensor.
static cg_tensor *reduce_loss(cg_tensor *values, cg_reduction r) {
    if (!values || r == CG_REDUCTION_NONE) return values;
    double sum = 0;
    for (int64_t i = 0; i < values->numel; i++) sum += values->data[i];
    if (r == CG_REDUCTION_MEAN) sum /= (double)values->numel; // 0/0 = nan as PyTorch
    cg_free(values);
    return cg_scalar((float)sum);
}

// d loss / d value_i given the upstream gradient of the (possibly reduced) output.
static float loss_grad_at(const cg_tensor *grad, int64_t i, int64_t count, cg_reduction r) {
    if (r == CG_REDUCTION_NONE) return grad->data[i];
    return r == CG_REDUCTION_MEAN ? grad->data[0] / (float)count : grad->data[0];
}

// ---- class-index losses: input (N, C) or (C), target (N) or 0-d -----------------------------

typedef struct class_plan {
    int64_t N, C;
    cg_reduction reduction;
} class_plan;

// Shapes and target values: every target must be a whole number in [0, C).
static bool plan_classes(const char *op, const char *input_name, const cg_tensor *input,
                         const cg_tensor *target, cg_reduction r, class_plan *p) {
    if (!check_reduction(r, op)) return false;
    if (input->ndim != 1 && input->ndim != 2) {
        cg_error(CG_ERR_SHAPE, "%s: %s must be (N, C) or (C), got %s", op, input_name,
                 cg_tensor_shape_str(input));
        return false;
    }
    p->N = input->ndim == 2 ? input->shape[0] : 1;
    p->C = input->shape[input->ndim - 1];
    p->reduction = r;
    bool fits =
        input->ndim == 2 ? target->ndim == 1 && target->shape[0] == p->N : target->ndim == 0;
    if (!fits) {
        cg_error(CG_ERR_SHAPE, "%s: target %s does not fit %s %s: expected %s of class indices", op,
                 cg_tensor_shape_str(target), input_name, cg_tensor_shape_str(input),
                 input->ndim == 2 ? cg_shape_str(CG_SHAPE(p->N)) : "a 0-d tensor");
        return false;
    }
    for (int64_t i = 0; i < p->N; i++) {
        float t = target->data[i];
        if (!(t >= 0 && t < (float)p->C && t == floorf(t))) {
            cg_error(CG_ERR_ARG, "%s: target[%lld] = %g is not a class index in [0, %lld)", op,
                     (long long)i, (double)t, (long long)p->C);
            return false;
        }
    }
    return true;
}

// Shape of the unreduced loss: (N), or 0-d for a single sample.
static cg_tensor *per_sample(const cg_tensor *input) {
    return input->ndim == 2 ? cg_empty(CG_SHAPE(input->shape[0])) : cg_scalar(0.0f);
}

// cross_entropy backward: dx[i, j] = g_i * (softmax(x_i)_j - [j == t_i])
// nll_loss backward:      dx[i, t_i] = -g_i
static void class_loss_backward(cg_node *n, const cg_tensor *grad) {
    const class_plan *p = n->ctx;
    cg_tensor *x = n->inputs[0];
    const float *target = n->saved[0]->data;
    const float *log_sum_exp = n->saved[1] ? n->saved[1]->data : NULL; // cross_entropy only
    cg_tensor *dx = log_sum_exp ? cg_empty_like(x) : cg_zeros_like(x);
    if (!dx) return;
    for (int64_t i = 0; i < p->N; i++) {
        float gi = loss_grad_at(grad, i, p->N, p->reduction);
        float *row = dx->data + i * p->C;
        if (log_sum_exp) {
            const float *xi = x->data + i * p->C;
            for (int64_t j = 0; j < p->C; j++) row[j] = gi * expf(xi[j] - log_sum_exp[i]);
        }
        row[(int64_t)target[i]] -= gi;
    }
    cg_accumulate_grad(x, dx);
}
const cg_op cg_op_cross_entropy = {"cross_entropy", class_loss_backward,
                                   "targets, log-sum-exp per row"};
const cg_op cg_op_nll_loss = {"nll_loss", class_loss_backward, "targets"};

// loss_i = log(sum_j exp(x_ij)) - x_i,t_i (cross_entropy, with the row maximum subtracted
// first) or -x_i,t_i (nll_loss, x holding log-probabilities).
static cg_tensor *class_loss(const cg_op *op, const char *input_name, cg_tensor *x,
                             const cg_tensor *target, cg_reduction r) {
    if (!cg_check_arg(x, op->name, input_name) || !cg_check_arg(target, op->name, "target"))
        return NULL;
    class_plan p;
    if (!plan_classes(op->name, input_name, x, target, r, &p)) return NULL;
    bool softmax = op == &cg_op_cross_entropy;
    cg_tensor *values = per_sample(x);
    cg_tensor *lse = softmax ? cg_empty(CG_SHAPE(p.N)) : NULL;
    if (!values || (softmax && !lse)) {
        cg_free(values);
        cg_free(lse);
        return NULL;
    }
    for (int64_t i = 0; i < p.N; i++) {
        const float *xi = x->data + i * p.C;
        float picked = xi[(int64_t)target->data[i]];
        if (!softmax) {
            values->data[i] = -picked;
            continue;
        }
        float max = -INFINITY;
        for (int64_t j = 0; j < p.C; j++) max = fmaxf(max, xi[j]);
        double sum = 0;
        for (int64_t j = 0; j < p.C; j++) sum += exp((double)(xi[j] - max));
        lse->data[i] = max + (float)log(sum);
        values->data[i] = lse->data[i] - picked;
    }
    cg_tensor *out = reduce_loss(values, r);
    cg_node *n = out ? cg_record(out, op, 1, &x) : NULL;
    if (n) {
        cg_node_set_ctx(n, &p, sizeof p);
        cg_node_save(n, 0, cg_from_data(target->ndim, target->shape, target->data));
        cg_node_save(n, 1, lse);
    } else {
        cg_free(lse);
    }
    return out;
}

cg_tensor *cg_cross_entropy(cg_tensor *logits, const cg_tensor *target, cg_reduction reduction) {
    return class_loss(&cg_op_cross_entropy, "logits", logits, target, reduction);
}
cg_tensor *cg_nll_loss(cg_tensor *log_probs, const cg_tensor *target, cg_reduction reduction) {
    return class_loss(&cg_op_nll_loss, "log_probs", log_probs, target, reduction);
}

// ---- elementwise losses: input and target of the same shape --------------------------------

typedef enum { MSE, BCE_WITH_LOGITS } elementwise_loss;

// What an elementwise loss saves for backward (the node's ctx).
typedef struct elementwise_plan {
    elementwise_loss kind;
    cg_reduction reduction;
} elementwise_plan;

// mse: (x - t)^2; bce_with_logits: max(x, 0) - x t + log(1 + exp(-|x|)), which never
// overflows: it equals -t log(sigmoid(x)) - (1 - t) log(1 - sigmoid(x)).
static float loss_value(elementwise_loss kind, float x, float t) {
    if (kind == MSE) return (x - t) * (x - t);
    return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x)));
}

// mse: dx = 2 (x - t) g, dt = -dx; bce_with_logits: dx = (sigmoid(x) - t) g, dt = -x g
static void elementwise_loss_backward(cg_node *n, const cg_tensor *grad) {
    const elementwise_plan *p = n->ctx;
    elementwise_loss kind = p->kind;
    cg_reduction r = p->reduction;
    cg_tensor *x = n->inputs[0], *t = n->inputs[1];
    cg_tensor *dx = cg_needs_grad(n, 0) ? cg_empty_like(x) : NULL;
    cg_tensor *dt = cg_needs_grad(n, 1) ? cg_empty_like(t) : NULL;
    for (int64_t i = 0; i < x->numel; i++) {
        float g = loss_grad_at(grad, i, x->numel, r), xi = x->data[i], ti = t->data[i];
        if (kind == MSE) {
            float d = 2.0f * (xi - ti) * g;
            if (dx) dx->data[i] = d;
            if (dt) dt->data[i] = -d;
        } else {
            if (dx) dx->data[i] = (1.0f / (1.0f + expf(-xi)) - ti) * g;
            if (dt) dt->data[i] = -xi * g;
        }
    }
    if (dx) cg_accumulate_grad(x, dx);
    if (dt) cg_accumulate_grad(t, dt);
}
const cg_op cg_op_mse_loss = {"mse_loss", elementwise_loss_backward, "nothing (reads inputs)"};
const cg_op cg_op_binary_cross_entropy_with_logits = {
    "binary_cross_entropy_with_logits", elementwise_loss_backward, "nothing (reads inputs)"};

static cg_tensor *elementwise(elementwise_loss kind, const cg_op *op, cg_tensor *x, cg_tensor *t,
                              cg_reduction r) {
    if (!cg_check_arg(x, op->name, "input") || !cg_check_arg(t, op->name, "target")) return NULL;
    if (!check_reduction(r, op->name)) return NULL;
    if (!cg_same_shape(x, t))
        return cg_error(CG_ERR_SHAPE, "%s: input %s and target %s must have the same shape",
                        op->name, cg_tensor_shape_str(x), cg_tensor_shape_str(t));
    cg_tensor *values = cg_empty_like(x);
    if (!values) return NULL;
    for (int64_t i = 0; i < x->numel; i++)
        values->data[i] = loss_value(kind, x->data[i], t->data[i]);
    cg_tensor *out = reduce_loss(values, r);
    cg_node *n = out ? cg_record(out, op, 2, (cg_tensor *[]){x, t}) : NULL;
    if (n) cg_node_set_ctx(n, &(elementwise_plan){kind, r}, sizeof(elementwise_plan));
    return out;
}

cg_tensor *cg_mse_loss(cg_tensor *input, cg_tensor *target, cg_reduction reduction) {
    return elementwise(MSE, &cg_op_mse_loss, input, target, reduction);
}
cg_tensor *cg_binary_cross_entropy_with_logits(cg_tensor *logits, cg_tensor *target,
                                               cg_reduction reduction) {
    return elementwise(BCE_WITH_LOGITS, &cg_op_binary_cross_entropy_with_logits, logits, target,
                       reduction);
}
