// optim/optimizer.c - what every optimizer shares: creation, the step loop over parameters,
// zero_grad, the learning rate, state listing for checkpoints, and freeing.
#include <math.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "optimizer_internal.h"

cg_optimizer *cg_optimizer_new(const cg_optimizer_class *cls, int n_params,
                               cg_tensor *const *params, double lr) {
    if (n_params <= 0 || !params)
        return cg_error(CG_ERR_ARG, "%s: got an empty parameter list", cls->name);
    for (int i = 0; i < n_params; i++)
        if (!params[i]) return cg_error(CG_ERR_ARG, "%s: parameter %d is NULL", cls->name, i);
    if (!(lr >= 0)) return cg_error(CG_ERR_ARG, "%s: invalid learning rate lr=%g", cls->name, lr);
    cg_optimizer *opt = cg_alloc_zeroed(sizeof *opt);
    if (!opt) return NULL;
    opt->params = cg_alloc((size_t)n_params * sizeof *opt->params);
    if (!opt->params) {
        cg_dealloc(opt);
        return NULL;
    }
    memcpy(opt->params, params, (size_t)n_params * sizeof *opt->params);
    opt->cls = cls;
    opt->n_params = n_params;
    opt->lr = lr;
    return opt;
}

cg_optimizer *cg_optimizer_init_state(cg_optimizer *opt) {
    if (!opt) return NULL;
    opt->n_keys = opt->cls->state_names(opt, opt->keys);
    if (opt->n_keys == 0) return opt;
    opt->state = cg_alloc_zeroed((size_t)opt->n_params * opt->n_keys * sizeof *opt->state);
    if (opt->state) return opt;
    cg_optimizer_free(opt);
    return NULL;
}

cg_optimizer *cg_optimizer_make(const cg_optimizer_class *cls, int n_params,
                                cg_tensor *const *params, double lr, const void *config,
                                size_t size) {
    cg_optimizer *opt = cg_optimizer_new(cls, n_params, params, lr);
    if (opt) memcpy(&opt->u, config, size);
    return cg_optimizer_init_state(opt);
}

bool cg_optim_nonnegative(const char *optimizer, const cg_optim_value *values, int n) {
    for (int i = 0; i < n; i++)
        if (!cg_optim_check(optimizer, values[i].name, values[i].value, values[i].value >= 0,
                            ">= 0"))
            return false;
    return true;
}

bool cg_optim_check(const char *optimizer, const char *name, double v, bool ok, const char *rule) {
    if (!ok) cg_error(CG_ERR_ARG, "%s: invalid %s=%g (must be %s)", optimizer, name, v, rule);
    return ok;
}

int cg_optimizer_key(const cg_optimizer *opt, const char *key) {
    for (int k = 0; k < opt->n_keys; k++)
        if (strcmp(opt->keys[k], key) == 0) return k;
    return -1;
}

cg_tensor **cg_optimizer_module_params(cg_module *model, int *n) {
    *n = 0;
    cg_tensor_list list = cg_module_named_parameters(model);
    cg_tensor **params = list.count > 0 ? cg_alloc((size_t)list.count * sizeof *params) : NULL;
    if (params) {
        for (int i = 0; i < list.count; i++) params[i] = list.items[i].tensor;
        *n = list.count;
    }
    cg_tensor_list_free(&list);
    return params;
}

// State tensors for parameter i ("step" is a 0-d counter, the rest shaped like it, zero
// or the class's start value), created outside any scope: the optimizer owns them.
static int create_state(cg_optimizer *opt, int i) {
    cg_tensor **state = &opt->state[i * opt->n_keys];
    const cg_tensor *p = opt->params[i];
    for (int k = 0; k < opt->n_keys; k++) {
        if (state[k]) continue;
        state[k] = strcmp(opt->keys[k], "step") == 0 ? cg_scalar(0) : cg_zeros(p->ndim, p->shape);
        if (!state[k]) return -1;
        cg_unscope(state[k]);
        float start = opt->cls->state_start ? opt->cls->state_start(opt, k) : 0.0f;
        for (int64_t j = 0; start != 0 && j < state[k]->numel; j++) state[k]->data[j] = start;
    }
    return 0;
}

int cg_optimizer_step(cg_optimizer *opt) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "optimizer_step: optimizer is NULL");
        return -1;
    }
    for (int i = 0; i < opt->n_params; i++) {
        cg_tensor *p = opt->params[i];
        if (!p->grad) continue; // as PyTorch: no gradient, no update and no state
        if (!cg_same_shape(p, p->grad)) {
            cg_error(CG_ERR_SHAPE, "%s: parameter %d has shape %s but its grad has shape %s",
                     opt->cls->name, i, cg_tensor_shape_str(p), cg_tensor_shape_str(p->grad));
            return -1;
        }
        if (opt->n_keys && create_state(opt, i) != 0) return -1;
        opt->cls->step(opt, p, opt->n_keys ? &opt->state[i * opt->n_keys] : NULL);
    }
    return 0;
}

void cg_optimizer_zero_grad(cg_optimizer *opt) {
    for (int i = 0; opt && i < opt->n_params; i++) cg_zero_grad(opt->params[i]);
}

float cg_optimizer_lr(const cg_optimizer *opt) {
    return opt ? (float)opt->lr : 0.0f;
}

void cg_optimizer_set_lr(cg_optimizer *opt, float lr) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "optimizer_set_lr: optimizer is NULL");
        return;
    }
    if (!(lr >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid learning rate lr=%g", opt->cls->name, lr);
        return;
    }
    opt->lr = lr;
}

double cg_optimizer_momentum(const cg_optimizer *opt) {
    double *m = opt && opt->cls->momentum ? opt->cls->momentum((cg_optimizer *)opt) : NULL;
    return m ? *m : NAN;
}

cg_tensor_list cg_optimizer_state(cg_optimizer *opt) {
    cg_tensor_list list = {0, NULL};
    if (!opt || opt->n_keys == 0) return list;
    int count = opt->n_params * opt->n_keys;
    list.items = cg_alloc((size_t)count * sizeof *list.items);
    if (!list.items) return list;
    for (int i = 0; i < opt->n_params; i++) {
        if (create_state(opt, i) != 0) {
            cg_tensor_list_free(&list);
            return list;
        }
        for (int k = 0; k < opt->n_keys; k++) {
            cg_named_tensor *item = &list.items[list.count++];
            snprintf(item->name, sizeof item->name, "%d.%s", i, opt->keys[k]);
            item->tensor = opt->state[i * opt->n_keys + k];
        }
    }
    return list;
}

void cg_optimizer_free(cg_optimizer *opt) {
    if (!opt) return;
    for (int i = 0; opt->state && i < opt->n_params * opt->n_keys; i++) cg_free(opt->state[i]);
    cg_dealloc(opt->state);
    cg_dealloc(opt->params);
    cg_dealloc(opt);
}
