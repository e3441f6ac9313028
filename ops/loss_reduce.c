// ops/loss_reduce.c - the parts every loss shares: option checking and the reductions.
#include "loss_internal.h"

static const struct {
    unsigned flag;
    const char *name;
} FIELDS[] = {
    {LOSS_WEIGHT, "weight"},
    {LOSS_POS_WEIGHT, "pos_weight"},
    {LOSS_IGNORE_INDEX, "ignore_index"},
    {LOSS_LABEL_SMOOTHING, "label_smoothing"},
    {LOSS_BETA, "beta"},
    {LOSS_DELTA, "delta"},
    {LOSS_LOG_TARGET, "log_target"},
};

// Which fields o sets, as LOSS_* flags.
static unsigned fields_set(const cg_loss_options *o) {
    return (o->weight ? LOSS_WEIGHT : 0) | (o->pos_weight ? LOSS_POS_WEIGHT : 0) |
           (o->ignore_index.set ? LOSS_IGNORE_INDEX : 0) |
           (o->label_smoothing != 0 ? LOSS_LABEL_SMOOTHING : 0) | (o->beta.set ? LOSS_BETA : 0) |
           (o->delta != 0 ? LOSS_DELTA : 0) | (o->log_target ? LOSS_LOG_TARGET : 0);
}

bool cg_loss_options_check(const char *op, const cg_loss_options *options, unsigned accepted,
                           cg_loss_options *out) {
    static const cg_loss_options defaults = {0};
    *out = options ? *options : defaults;
    cg_reduction r = out->reduction;
    bool known = r == CG_REDUCTION_MEAN || r == CG_REDUCTION_SUM || r == CG_REDUCTION_NONE ||
                 (r == CG_REDUCTION_BATCHMEAN && (accepted & LOSS_BATCHMEAN));
    if (!known) {
        cg_error(CG_ERR_ARG, "%s: unknown reduction %d%s", op, (int)r,
                 r == CG_REDUCTION_BATCHMEAN ? " (batchmean is for kl_div only)" : "");
        return false;
    }
    unsigned extra = fields_set(out) & ~accepted;
    for (size_t i = 0; i < sizeof FIELDS / sizeof *FIELDS; i++) {
        if (extra & FIELDS[i].flag) {
            cg_error(CG_ERR_ARG, "%s: option %s does not apply to this loss", op, FIELDS[i].name);
            return false;
        }
    }
    return true;
}

cg_tensor *cg_loss_reduce(cg_tensor *values, cg_loss_reduction r) {
    if (!values || r.reduction == CG_REDUCTION_NONE) return values;
    double sum = 0;
    for (int64_t i = 0; i < values->numel; i++) sum += values->data[i];
    if (r.reduction != CG_REDUCTION_SUM) sum /= r.divisor;
    cg_free(values);
    return cg_scalar((float)sum);
}

float cg_loss_grad_at(const cg_tensor *grad, int64_t i, cg_loss_reduction r) {
    if (r.reduction == CG_REDUCTION_NONE) return grad->data[i];
    if (r.reduction == CG_REDUCTION_SUM) return grad->data[0];
    return (float)(grad->data[0] / r.divisor);
}
