// ops/norm.c - the one normalisation core behind batch, instance, group and layer norm.
//
// x is seen as (N, C, S) and its C channels as G groups of C/G. One statistic (mean and
// biased variance) is taken over every group of one sample, or over a group across the
// whole batch; then y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]. The norms
// differ only in that view (see ops/norm.h):
//   batch_norm    (N, C, *)  G = C, across the batch; running statistics in eval
//   instance_norm (N, C, *)  G = C, per sample
//   group_norm    (N, C, *)  G groups, per sample
//   layer_norm    (..., D)   N = leading elements, C = D (normalized_shape), S = 1, G = 1, so
//                            weight and bias are elementwise over normalized_shape
// The loops are kernels/norm.c. Backward is the closed form, not a chain of ops; the node
// keeps x (an input, by reference) and the mean and 1/std of each statistic, never a
// normalised copy. batch_norm_relu floors the output at 0 in the same pass and masks the
// gradient by that output (its node's own), so no pre-activation is stored either.
#include <math.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "norm_internal.h"

// dx, dweight, dbias in one call (kernels/norm.h): the sums of g and g * xhat, the
// per-statistic means dx needs (statistics of x only) and the per-channel sums, then dx.
static void norm_backward(cg_node *node, const cg_tensor *grad) {
    const cg_norm_plan *p = node->ctx;
    cg_tensor *x = node->inputs[0], *weight = node->inputs[1], *bias = node->inputs[2];
    const float *mean = node->saved[0]->data, *invstd = mean + cg_norm_stat_count(&p->layout);
    const float *relu_y = p->relu ? node->output->data : NULL, *w = weight ? weight->data : NULL;
    cg_tensor *dw = weight && cg_needs_grad(node, 1) ? cg_empty_like(weight) : NULL;
    cg_tensor *db = bias && cg_needs_grad(node, 2) ? cg_empty_like(bias) : NULL;
    cg_tensor *dx = cg_needs_grad(node, 0) ? cg_empty_like(x) : NULL;
    // dw, db, dx: temporaries of the backward's scope
    if (!cg_norm_backward(&p->layout, x->data, grad->data, relu_y, mean, invstd, w, p->batch_stats,
                          dx ? dx->data : NULL, dw ? dw->data : NULL, db ? db->data : NULL))
        return;
    if (dw) cg_accumulate_grad(weight, dw);
    if (db) cg_accumulate_grad(bias, db);
    if (dx) cg_accumulate_grad(x, dx);
}

const cg_op cg_op_batch_norm1d = {"batch_norm1d", norm_backward, "mean and 1/std per channel"};
const cg_op cg_op_batch_norm2d = {"batch_norm2d", norm_backward, "mean and 1/std per channel"};
const cg_op cg_op_batch_norm_relu = {"batch_norm_relu", norm_backward,
                                     "mean and 1/std per channel (output by reference)"};
const cg_op cg_op_instance_norm = {"instance_norm", norm_backward, "mean and 1/std per map"};
const cg_op cg_op_group_norm = {"group_norm", norm_backward, "mean and 1/std per group"};
const cg_op cg_op_layer_norm = {"layer_norm", norm_backward, "mean and 1/std per row"};

// running[g] = (1 - momentum) * running[g] + momentum * batch[g], batch[g] the average over
// the statistics of group g (one for batch norm, one per sample for instance norm) of the
// mean and the unbiased variance. An empty batch has no statistics and leaves them
// (PyTorch's too).
static void update_running(const cg_norm_layout *l, const double *mean, const double *var,
                           const cg_norm_running *r) {
    double count = (double)cg_norm_stat_members(l), m = r->momentum;
    int64_t per_group = cg_norm_stat_count(l) / l->G;
    for (int64_t g = 0; count > 0 && g < l->G; g++) {
        double batch_mean = 0, batch_var = 0;
        for (int64_t st = g; st < per_group * l->G; st += l->G) {
            batch_mean += mean[st];
            batch_var += var[st] * count / (count - 1.0);
        }
        batch_mean /= (double)per_group, batch_var /= (double)per_group;
        if (r->mean) r->mean->data[g] = (float)((1.0 - m) * r->mean->data[g] + m * batch_mean);
        if (r->var) r->var->data[g] = (float)((1.0 - m) * r->var->data[g] + m * batch_var);
    }
}

cg_tensor *cg_norm_run(const cg_op *op, cg_tensor *x, const cg_norm_plan *p, cg_tensor *weight,
                       cg_tensor *bias, double eps, const cg_norm_running *running) {
    if (!isfinite(eps) || eps < 0 || (running && !isfinite(running->momentum)))
        return cg_error(CG_ERR_ARG, "%s: eps (%g) must be finite and >= 0, momentum (%g) finite",
                        op->name, eps, running ? running->momentum : 0.0);
    const cg_norm_layout *l = &p->layout;
    int64_t ns = cg_norm_stat_count(l);
    cg_tensor *stats = cg_empty(CG_SHAPE(2, ns)); // mean, invstd
    cg_tensor *y = cg_empty_like(x);
    double *work = cg_alloc((size_t)(2 * ns + 1) * sizeof(double));
    if (!stats || !y || !work) {
        cg_free(stats);
        cg_free(y);
        cg_dealloc(work);
        return NULL;
    }
    double *mean = work, *var = work + ns;
    const float *w = weight ? weight->data : NULL, *b = bias ? bias->data : NULL;
    if (p->batch_stats) {
        cg_norm_forward(l, x->data, eps, w, b, p->relu, mean, var, stats->data, stats->data + ns,
                        y->data);
        if (running) update_running(l, mean, var, running);
    } else {
        for (int64_t st = 0; st < ns; st++) {
            stats->data[st] = running->mean->data[st % l->G];
            stats->data[ns + st] = cg_norm_invstd(running->var->data[st % l->G], eps);
        }
        cg_norm_apply(l, x->data, stats->data, stats->data + ns, w, b, p->relu, y->data);
    }
    cg_dealloc(work);
    cg_node *n = cg_record(y, op, 3, (cg_tensor *[]){x, weight, bias});
    if (n) {
        cg_norm_plan recorded = *p;
        recorded.eps = eps;
        cg_node_set_ctx(n, &recorded, sizeof recorded);
        cg_node_save(n, 0, stats);
    } else {
        cg_free(stats);
    }
    return y;
}

bool cg_norm_check_param(const char *op, const char *name, const cg_tensor *t, int ndim,
                         const int64_t *shape, const char *what) {
    bool fits = !t || t->ndim == ndim;
    for (int d = 0; t && fits && d < ndim; d++) fits = t->shape[d] == shape[d];
    if (!fits)
        cg_error(CG_ERR_SHAPE, "%s: %s %s does not match %s", op, name, cg_tensor_shape_str(t),
                 what);
    return fits;
}
