// optim/clip.c - gradient clipping as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
//
// clip_grad_norm_ (1.13; norm_type 2 unless set, error_if_nonfinite): norms_i = ||grad_i||_p, total
// = ||(norms_i)||_p (max for inf), coef = min(max_norm / (total + 1e-6), 1), every grad *= coef.
// Sums run in double; the total and the coefficient are rounded to float as PyTorch's float32
// tensors hold them.
#include <math.h>

#include "optimizer_internal.h"

// ||g||_p^p (or max |g| for p = inf) of one gradient. p = 2 squares instead of calling pow
// (which cost 1.3% of the ResNet's training step): a float squared is exact in double, so
// the sum is the same to the bit.
static double grad_power_sum(const cg_tensor *g, double p) {
    double acc = 0;
    for (int64_t i = 0; i < g->numel; i++) {
        double a = fabs((double)g->data[i]);
        if (isinf(p))
            acc = a > acc || isnan(a) ? a : acc;
        else
            acc += p == 2 ? a * a : pow(a, p);
    }
    return acc;
}

static bool check_params(const char *op, int n_params, cg_tensor *const *params) {
    if (n_params < 0 || (n_params > 0 && !params)) {
        cg_error(CG_ERR_ARG, "%s: invalid parameter list (n_params=%d)", op, n_params);
        return false;
    }
    for (int i = 0; i < n_params; i++) {
        if (!params[i]) {
            cg_error(CG_ERR_ARG, "%s: parameter %d is NULL", op, i);
            return false;
        }
    }
    return true;
}

double cg_clip_grad_norm(int n_params, cg_tensor *const *params, double max_norm,
                         const cg_clip_grad_norm_options *options) {
    const char *op = "clip_grad_norm";
    double norm_type = options ? cg_optional_or(options->norm_type, 2.0) : 2.0;
    if (!check_params(op, n_params, params)) return -1;
    if (!(norm_type > 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid norm_type=%g (must be > 0 or INFINITY)", op, norm_type);
        return -1;
    }
    if (!(max_norm >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid max_norm=%g (must be >= 0)", op, max_norm);
        return -1;
    }
    double total = 0;
    for (int i = 0; i < n_params; i++) {
        if (!params[i]->grad) continue;
        double part = grad_power_sum(params[i]->grad, norm_type);
        if (isinf(norm_type)) {
            total = part > total || isnan(part) ? part : total;
        } else {
            float norm_i = (float)pow(part, 1 / norm_type); // torch.norm of one grad
            total += pow((double)norm_i, norm_type);
        }
    }
    float norm = (float)(isinf(norm_type) ? total : pow(total, 1 / norm_type));
    if (options && options->error_if_nonfinite && !isfinite(norm)) {
        cg_error(CG_ERR_ARG,
                 "%s: the total norm of order %g of the gradients is %g, so it cannot be "
                 "clipped (error_if_nonfinite is set)",
                 op, norm_type, (double)norm);
        return -1;
    }
    float coef = (float)(max_norm / ((double)norm + 1e-6));
    if (coef < 1.0f || isnan(coef)) {
        for (int i = 0; i < n_params; i++) {
            cg_tensor *g = params[i]->grad;
            for (int64_t j = 0; g && j < g->numel; j++) g->data[j] *= coef;
        }
    }
    return norm;
}

int cg_clip_grad_value(int n_params, cg_tensor *const *params, double clip_value) {
    const char *op = "clip_grad_value";
    if (!check_params(op, n_params, params)) return -1;
    if (!(clip_value >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid clip_value=%g (must be >= 0)", op, clip_value);
        return -1;
    }
    float c = (float)clip_value;
    for (int i = 0; i < n_params; i++) {
        cg_tensor *g = params[i]->grad;
        for (int64_t j = 0; g && j < g->numel; j++)
            g->data[j] = g->data[j] < -c ? -c : g->data[j] > c ? c : g->data[j]; // NaN stays
    }
    return 0;
}

double cg_optimizer_clip_grad_norm(cg_optimizer *opt, double max_norm,
                                   const cg_clip_grad_norm_options *options) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "clip_grad_norm: optimizer is NULL");
        return -1;
    }
    if (!cg_optimizer_params_alive(opt, "clip_grad_norm")) return -1;
    return cg_clip_grad_norm(opt->n_params, opt->params, max_norm, options);
}

int cg_optimizer_clip_grad_value(cg_optimizer *opt, double clip_value) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "clip_grad_value: optimizer is NULL");
        return -1;
    }
    if (!cg_optimizer_params_alive(opt, "clip_grad_value")) return -1;
    return cg_clip_grad_value(opt->n_params, opt->params, clip_value);
}
