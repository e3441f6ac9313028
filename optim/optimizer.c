// optim/optimizer.c - what every optimizer shares: creation and parameter groups (options
// resolved against the constructor's), the step loop over parameters with their flat state
// buffers, zero_grad, the learning rates, state listing for checkpoints, and freeing.
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../ops/view.h"
#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "optimizer_internal.h"

// ---- options --------------------------------------------------------------------------------

static const cg_optim_field *find_field(const cg_optimizer_class *cls, const char *name) {
    for (int f = 0; f < cls->n_fields; f++)
        if (strcmp(cls->fields[f].name, name) == 0) return &cls->fields[f];
    return NULL;
}

int cg_optim_set_option(const cg_optimizer_class *cls, void *options, const char *name,
                        double value) {
    const cg_optim_field *f = cls && options && name ? find_field(cls, name) : NULL;
    if (!f) {
        cg_error(CG_ERR_ARG, "%s: no option named '%s'", cls ? cls->name : "optimizer",
                 name ? name : "(null)");
        return -1;
    }
    char *at = (char *)options + f->offset;
    if (f->is_bool)
        *(bool *)at = value != 0;
    else
        *(cg_optional *)at = cg_opt(value);
    return 0;
}

// merged = defaults overlaid with what `group` sets (a set cg_optional, a true bool).
static void merge_options(const cg_optimizer_class *cls, const void *defaults, const void *group,
                          void *merged) {
    memcpy(merged, defaults, cls->options_size);
    for (int f = 0; group && f < cls->n_fields; f++) {
        const char *from = (const char *)group + cls->fields[f].offset;
        char *to = (char *)merged + cls->fields[f].offset;
        if (cls->fields[f].is_bool ? *(const bool *)from : ((const cg_optional *)from)->set)
            memcpy(to, from, cls->fields[f].is_bool ? sizeof(bool) : sizeof(cg_optional));
    }
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

bool cg_adam_common_resolve(const char *optimizer, const cg_optional betas[2], cg_optional eps,
                            cg_optional weight_decay, double default_weight_decay,
                            cg_adam_common *out) {
    *out = (cg_adam_common){
        .beta1 = cg_optional_or(betas[0], 0.9),
        .beta2 = cg_optional_or(betas[1], 0.999),
        .eps = cg_optional_or(eps, 1e-8),
        .weight_decay = cg_optional_or(weight_decay, default_weight_decay),
    };
    const cg_adam_common *c = out;
    return cg_optim_check(optimizer, "beta1", c->beta1, c->beta1 >= 0 && c->beta1 < 1,
                          "in [0, 1)") &&
           cg_optim_check(optimizer, "beta2", c->beta2, c->beta2 >= 0 && c->beta2 < 1,
                          "in [0, 1)") &&
           CG_OPTIM_NONNEGATIVE(optimizer, {"eps", c->eps}, {"weight_decay", c->weight_decay});
}

cg_adam_floats cg_adam_floats_of(const cg_adam_common *c) {
    return (cg_adam_floats){
        .beta1 = (float)c->beta1,
        .one_minus_beta1 = (float)(1 - c->beta1),
        .beta2 = (float)c->beta2,
        .one_minus_beta2 = (float)(1 - c->beta2),
        .eps = (float)c->eps,
        .weight_decay = (float)c->weight_decay,
    };
}

// ---- creation and groups --------------------------------------------------------------------

static bool check_params(const cg_optimizer *opt, int n_params, cg_tensor *const *params) {
    const char *name = opt->cls->name;
    if (n_params <= 0 || !params) {
        cg_error(CG_ERR_ARG, "%s: got an empty parameter list", name);
        return false;
    }
    for (int i = 0; i < n_params; i++) {
        const cg_tensor *p = params[i];
        if (!p) {
            cg_error(CG_ERR_ARG, "%s: parameter %d is NULL", name, i);
            return false;
        }
        if (p->node) {
            cg_error(CG_ERR_ARG, "%s: can't optimize a non-leaf tensor (parameter %d, shape %s)",
                     name, i, cg_tensor_shape_str(p));
            return false;
        }
        for (int j = 0; j < opt->n_params; j++)
            if (opt->params[j] == p) {
                cg_error(CG_ERR_ARG, "%s: parameter %d appears in more than one group", name, i);
                return false;
            }
        for (int j = 0; j < i; j++)
            if (params[j] == p) {
                cg_error(CG_ERR_ARG, "%s: parameter %d appears twice in one group", name, i);
                return false;
            }
    }
    return true;
}

int cg_optimizer_add_param_group(cg_optimizer *opt, int n_params, cg_tensor *const *params,
                                 const void *options) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "add_param_group: optimizer is NULL");
        return -1;
    }
    const cg_optimizer_class *cls = opt->cls;
    if (!check_params(opt, n_params, params)) return -1;
    char *merged = cg_alloc(cls->options_size);
    void *config = cg_alloc_zeroed(cls->config_size ? cls->config_size : 1);
    double lr = 0;
    bool ok = merged && config;
    if (ok) merge_options(cls, opt->defaults, options, merged);
    ok = ok && cls->resolve(merged, config, &lr);
    if (ok && !(lr >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid learning rate lr=%g", cls->name, lr);
        ok = false;
    }
    cg_dealloc(merged);
    int total = opt->n_params + n_params;
    cg_optimizer_capacity *cap = &opt->capacity;
    int64_t slots = (int64_t)total * CG_OPTIM_MAX_KEYS;
    ok =
        ok &&
        cg_array_reserve(&opt->groups, &cap->groups, opt->n_groups + 1, sizeof *opt->groups) == 0 &&
        cg_array_reserve(&opt->group_of, &cap->group_of, total, sizeof *opt->group_of) == 0 &&
        cg_array_reserve(&opt->state, &cap->state, slots, sizeof *opt->state) == 0 &&
        cg_array_reserve(&opt->params, &cap->params, total, sizeof *opt->params) == 0 &&
        cg_array_reserve(&opt->anchors, &cap->anchors, total, sizeof *opt->anchors) == 0;
    if (ok) // the new parameters have no state yet (made on their first step)
        memset(opt->state + (int64_t)opt->n_params * CG_OPTIM_MAX_KEYS, 0,
               (size_t)n_params * CG_OPTIM_MAX_KEYS * sizeof *opt->state);
    int anchored = 0; // detached views of the new parameters, made so far
    for (; ok && anchored < n_params; anchored++) {
        cg_tensor *anchor = cg_detach(params[anchored]);
        if (anchor) cg_unscope(anchor);
        opt->anchors[opt->n_params + anchored] = anchor;
        ok = anchor != NULL;
    }
    if (!ok) {
        for (int i = 0; i < anchored; i++) {
            cg_free(opt->anchors[opt->n_params + i]);
            opt->anchors[opt->n_params + i] = NULL;
        }
        cg_dealloc(config);
        return -1;
    }
    int g = opt->n_groups++;
    opt->groups[g] = (cg_param_group){.lr = lr, .config = config};
    for (int i = 0; i < n_params; i++) {
        opt->params[opt->n_params + i] = params[i];
        opt->group_of[opt->n_params + i] = g;
    }
    opt->n_params = total;
    return g;
}

cg_optimizer *cg_optimizer_new(const cg_optimizer_class *cls, int n_params,
                               cg_tensor *const *params, const void *options) {
    if (!cls || !cls->resolve || !cls->step || cls->n_keys > CG_OPTIM_MAX_KEYS)
        return cg_error(CG_ERR_ARG,
                        "optimizer_new: class is NULL, incomplete or has more than "
                        "%d state keys",
                        CG_OPTIM_MAX_KEYS);
    cg_optimizer *opt = cg_alloc_zeroed(sizeof *opt);
    if (!opt) return NULL;
    opt->cls = cls;
    opt->defaults = cg_alloc_zeroed(cls->options_size ? cls->options_size : 1);
    if (opt->defaults && options) memcpy(opt->defaults, options, cls->options_size);
    if (!opt->defaults || cg_optimizer_add_param_group(opt, n_params, params, NULL) < 0) {
        cg_optimizer_free(opt);
        return NULL;
    }
    return opt;
}

cg_optimizer *cg_optimizer_for(const cg_optimizer_class *cls, cg_module *model,
                               const void *options) {
    if (!model) return cg_error(CG_ERR_ARG, "%s: model is NULL", cls ? cls->name : "optimizer");
    cg_tensor_list list = cg_module_named_parameters(model);
    cg_tensor **params = list.count > 0 ? cg_alloc((size_t)list.count * sizeof *params) : NULL;
    for (int i = 0; params && i < list.count; i++) params[i] = list.items[i].tensor;
    cg_optimizer *opt = cg_optimizer_new(cls, params ? list.count : 0, params, options);
    cg_dealloc(params);
    cg_tensor_list_free(&list);
    return opt;
}

// The typed constructors of every built-in.
#define CG_OPTIMIZER(id, opts)                                                                     \
    cg_optimizer *cg_##id(int n_params, cg_tensor *const *params,                                  \
                          const cg_##opts##_options *options) {                                    \
        return cg_optimizer_new(&cg_##id##_class, n_params, params, options);                      \
    }                                                                                              \
    cg_optimizer *cg_##id##_for(cg_module *model, const cg_##opts##_options *options) {            \
        return cg_optimizer_for(&cg_##id##_class, model, options);                                 \
    }
#include "optimizers.def"
#undef CG_OPTIMIZER

static const cg_optimizer_class *const builtins[] = {
#define CG_OPTIMIZER(id, opts) &cg_##id##_class,
#include "optimizers.def"
#undef CG_OPTIMIZER
};

const cg_optimizer_class *cg_optimizer_builtin(int i) {
    return i >= 0 && i < CG_OPTIM_COUNT(builtins) ? builtins[i] : NULL;
}

const cg_optimizer_class *cg_optimizer_class_named(const char *name) {
    if (!cg_check_ptr(name, "optimizer_class_named", "name")) return NULL;
    for (int i = 0; i < CG_OPTIM_COUNT(builtins); i++) {
        const char *a = builtins[i]->name, *b = name;
        while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b)) a++, b++;
        if (!*a && !*b) return builtins[i];
    }
    return NULL;
}

// ---- state ----------------------------------------------------------------------------------

static bool key_in_use(const cg_optimizer *opt, int i, int k) {
    return !opt->cls->uses || opt->cls->uses(opt->groups[opt->group_of[i]].config, k);
}

// Create parameter i's state buffers that are in use and missing ("scalar" keys 0-d), zeroed
// then given their start values by the class's init; fill *view with all of them.
static int prepare_state(cg_optimizer *opt, int i, cg_optim_param *view) {
    cg_tensor **state = &opt->state[i * CG_OPTIM_MAX_KEYS];
    cg_tensor *p = opt->params[i];
    const cg_param_group *group = &opt->groups[opt->group_of[i]];
    cg_optim_param fresh = {p->data, NULL, p->numel, {NULL}};
    bool any_fresh = false;
    *view = fresh;
    view->grad = p->grad ? p->grad->data : NULL;
    for (int k = 0; k < opt->cls->n_keys; k++) {
        if (!key_in_use(opt, i, k)) continue;
        if (!state[k]) {
            state[k] = opt->cls->keys[k].scalar ? cg_scalar(0) : cg_zeros(p->ndim, p->shape);
            if (!state[k]) return -1;
            cg_unscope(state[k]);
            fresh.state[k] = state[k]->data;
            any_fresh = true;
        }
        view->state[k] = state[k]->data;
    }
    if (any_fresh && opt->cls->init) opt->cls->init(group->config, group->lr, &fresh);
    return 0;
}

bool cg_optimizer_params_alive(const cg_optimizer *opt, const char *op) {
    for (int i = 0; i < opt->n_params; i++) {
        const cg_tensor *anchor = opt->anchors[i];
        if (anchor->storage->refcount < 2) {
            cg_error(CG_ERR_ARG,
                     "%s: %s: parameter %d (shape %s) was freed while the optimizer still "
                     "holds it; free the optimizer before its parameters",
                     op, opt->cls->name, i, cg_tensor_shape_str(anchor));
            return false;
        }
    }
    return true;
}

int cg_optimizer_step(cg_optimizer *opt) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "optimizer_step: optimizer is NULL");
        return -1;
    }
    if (!cg_optimizer_params_alive(opt, "optimizer_step")) return -1;
    for (int i = 0; i < opt->n_params; i++) {
        cg_tensor *p = opt->params[i];
        if (!p->grad) continue; // as PyTorch: no gradient, no update and no state
        if (!cg_same_shape(p, p->grad)) {
            cg_error(CG_ERR_SHAPE, "%s: parameter %d has shape %s but its grad has shape %s",
                     opt->cls->name, i, cg_tensor_shape_str(p), cg_tensor_shape_str(p->grad));
            return -1;
        }
    }
    for (int i = 0; i < opt->n_params; i++) {
        if (!opt->params[i]->grad) continue;
        cg_optim_param view;
        if (prepare_state(opt, i, &view) != 0) return -1;
        const cg_param_group *group = &opt->groups[opt->group_of[i]];
        opt->cls->step(group->config, group->lr, &view);
    }
    return 0;
}

cg_tensor_list cg_optimizer_state(cg_optimizer *opt) {
    cg_tensor_list list = {0, NULL};
    if (!cg_check_ptr(opt, "optimizer_state", "opt")) return (cg_tensor_list){-1, NULL};
    if (opt->cls->n_keys == 0 || !cg_optimizer_params_alive(opt, "optimizer_state")) return list;
    list.items = cg_alloc((size_t)opt->n_params * opt->cls->n_keys * sizeof *list.items);
    if (!list.items) return list;
    for (int i = 0; i < opt->n_params; i++) {
        cg_optim_param view;
        if (prepare_state(opt, i, &view) != 0) {
            cg_tensor_list_free(&list);
            return list;
        }
        for (int k = 0; k < opt->cls->n_keys; k++) {
            if (!view.state[k]) continue;
            cg_named_tensor *item = &list.items[list.count++];
            snprintf(item->name, sizeof item->name, "%d.%s", i, opt->cls->keys[k].name);
            item->tensor = opt->state[i * CG_OPTIM_MAX_KEYS + k];
        }
    }
    return list;
}

// ---- learning rates and the rest -------------------------------------------------------------

void cg_optimizer_zero_grad(cg_optimizer *opt) {
    if (!cg_check_ptr(opt, "optimizer_zero_grad", "opt") ||
        !cg_optimizer_params_alive(opt, "optimizer_zero_grad"))
        return;
    for (int i = 0; i < opt->n_params; i++) cg_zero_grad(opt->params[i]);
}

int cg_optimizer_n_groups(const cg_optimizer *opt) {
    return cg_check_ptr(opt, "optimizer_n_groups", "opt") ? opt->n_groups : -1;
}

double cg_optimizer_group_lr(const cg_optimizer *opt, int group) {
    if (!cg_check_ptr(opt, "optimizer_group_lr", "opt")) return NAN;
    if (group >= 0 && group < opt->n_groups) return opt->groups[group].lr;
    cg_error(CG_ERR_ARG, "%s: no parameter group %d (it has %d)", opt->cls->name, group,
             opt->n_groups);
    return NAN;
}

int cg_optimizer_set_group_lr(cg_optimizer *opt, int group, double lr) {
    if (!opt) {
        cg_error(CG_ERR_ARG, "optimizer_set_lr: optimizer is NULL");
        return -1;
    }
    if (group < 0 || group >= opt->n_groups) {
        cg_error(CG_ERR_ARG, "%s: no parameter group %d (it has %d)", opt->cls->name, group,
                 opt->n_groups);
        return -1;
    }
    if (!(lr >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid learning rate lr=%g", opt->cls->name, lr);
        return -1;
    }
    opt->groups[group].lr = lr;
    return 0;
}

double cg_optimizer_lr(const cg_optimizer *opt) {
    return cg_optimizer_group_lr(opt, 0);
}

int cg_optimizer_set_lr(cg_optimizer *opt, double lr) {
    for (int g = 0; g < (opt ? opt->n_groups : 1); g++)
        if (cg_optimizer_set_group_lr(opt, g, lr) != 0) return -1;
    return 0;
}

double *cg_group_momentum(cg_optimizer *opt, int g) {
    return opt->cls->momentum ? opt->cls->momentum(opt->groups[g].config) : NULL;
}

double cg_optimizer_momentum(const cg_optimizer *opt) {
    if (!cg_check_ptr(opt, "optimizer_momentum", "opt")) return NAN;
    double *m = cg_group_momentum((cg_optimizer *)opt, 0);
    return m ? *m : NAN;
}

const cg_optimizer_class *cg_optimizer_get_class(const cg_optimizer *opt) {
    return cg_check_ptr(opt, "optimizer_get_class", "opt") ? opt->cls : NULL;
}

void cg_optimizer_free(cg_optimizer *opt) {
    if (!opt) return;
    for (int i = 0; opt->state && i < opt->n_params * CG_OPTIM_MAX_KEYS; i++)
        cg_free(opt->state[i]);
    for (int i = 0; opt->anchors && i < opt->n_params; i++) cg_free(opt->anchors[i]);
    for (int g = 0; g < opt->n_groups; g++) cg_dealloc(opt->groups[g].config);
    cg_dealloc(opt->groups);
    cg_dealloc(opt->state);
    cg_dealloc(opt->params);
    cg_dealloc(opt->group_of);
    cg_dealloc(opt->anchors);
    cg_dealloc(opt->defaults);
    cg_dealloc(opt);
}
