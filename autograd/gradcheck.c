// autograd/gradcheck.c - finite-difference check of every input's analytic gradient.
//
// L(inputs) = sum(fn(inputs) * r) with r fixed and random, accumulated in double.
// numeric dL/dx_j = (L(x_j + eps) - L(x_j - eps)) / (2 eps); analytic from cg_backward_ex(out, r).
// Float32 inputs limit the accuracy of the numeric side to about eps^2 (truncation) plus
// 1e-7 * |L| / eps (rounding), hence the float32 defaults eps 1e-3, atol 1e-3, rtol 1e-2.
#include <math.h>
#include <string.h>

#include "autograd.h"
#include "op.h"

static double projected(cg_gradcheck_fn fn, void *ctx, cg_tensor **inputs, const float *r,
                        bool *ok) {
    cg_scope_begin();
    cg_tensor *out = fn(inputs, ctx);
    double sum = 0;
    if (out)
        for (int64_t i = 0; i < out->numel; i++) sum += (double)out->data[i] * r[i];
    *ok = out != NULL;
    cg_scope_end();
    return sum;
}

cg_gradcheck_result cg_gradcheck(cg_gradcheck_fn fn, void *ctx, int n_inputs, cg_tensor **inputs,
                                 const cg_gradcheck_options *options) {
    const cg_gradcheck_result refused = {false, 0.0, -1, -1};
    if (!fn) return cg_error(CG_ERR_ARG, "gradcheck: argument 'fn' is NULL"), refused;
    if (n_inputs < 0 || (n_inputs > 0 && !inputs))
        return cg_error(CG_ERR_ARG, "gradcheck: %d inputs at %s", n_inputs,
                        inputs ? "inputs" : "NULL (argument 'inputs' is NULL)"),
               refused;
    cg_gradcheck_options o = options ? *options : (cg_gradcheck_options){0};
    float eps = o.eps > 0 ? o.eps : 1e-3f;
    double atol = o.atol > 0 ? o.atol : 1e-3, rtol = o.rtol > 0 ? o.rtol : 1e-2;
    cg_gradcheck_result res = {true, 0.0, -1, -1};

    // Analytic gradients: one backward with the projection r as seed.
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i] && inputs[i]->requires_grad) cg_zero_grad(inputs[i]);
    bool prev = cg_set_grad_enabled(true);
    cg_scope_begin();
    cg_tensor *out = fn(inputs, ctx);
    if (!out) {
        cg_scope_end();
        cg_set_grad_enabled(prev);
        res.ok = false;
        return res;
    }
    cg_rng rng;
    cg_rng_seed(&rng, 12345);
    cg_tensor *r = cg_uniform(out->ndim, out->shape, -1.0f, 1.0f, &rng);
    cg_keep(r); // the numeric passes below reuse it
    if (out->requires_grad) cg_backward_ex(out, r, false);
    cg_scope_end();
    cg_set_grad_enabled(false);

    for (int i = 0; i < n_inputs && res.ok; i++) {
        cg_tensor *x = inputs[i];
        if (!x || !x->requires_grad) continue;
        for (int64_t j = 0; j < x->numel; j++) {
            float saved = x->data[j];
            bool ok_plus, ok_minus;
            x->data[j] = saved + eps;
            double plus = projected(fn, ctx, inputs, r->data, &ok_plus);
            x->data[j] = saved - eps;
            double minus = projected(fn, ctx, inputs, r->data, &ok_minus);
            x->data[j] = saved;
            double numeric = (plus - minus) / (2.0 * (double)eps);
            double analytic = x->grad ? x->grad->data[j] : 0.0;
            double err = fabs(analytic - numeric);
            if (err > res.max_abs_error) res.max_abs_error = err;
            if (!ok_plus || !ok_minus || err > atol + rtol * fabs(numeric)) {
                res.ok = false;
                res.failed_input = i;
                res.failed_index = j;
                if (!o.quiet)
                    fprintf(stderr,
                            "gradcheck: input %d element %lld: analytic %.6g, numeric "
                            "%.6g (|diff| %.3g > %.3g)\n",
                            i, (long long)j, analytic, numeric, err, atol + rtol * fabs(numeric));
                break;
            }
        }
    }
    cg_set_grad_enabled(prev);
    if (cg_scope_depth() == 0) cg_free(r);
    return res;
}
