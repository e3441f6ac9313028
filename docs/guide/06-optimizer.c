// docs/guide/06-optimizer.c - your own optimizer: Lion (Chen et al., 2023, "Symbolic
// Discovery of Optimization Algorithms") defined outside the library as a
// cg_optimizer_class, then used as a built-in would be: parameter groups, StepLR, gradient
// clipping, a checkpoint that resumes bit for bit. The program checks its own results.
#include <cgrad.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

// ---- the optimizer ---------------------------------------------------------------------------
// Lion's rule, per element (decoupled weight decay as AdamW's):
//   p = p * (1 - lr * weight_decay)
//   p = p - lr * sign(beta1 * m + (1 - beta1) * g)
//   m = beta2 * m + (1 - beta2) * g
// The options follow the options rule: every number a cg_optional, unset = the default.
typedef struct lion_options {
    cg_optional lr, beta1, beta2, weight_decay;
} lion_options;
typedef struct lion_config { // the options resolved, one per parameter group
    double beta1, beta2, weight_decay;
} lion_config;

static bool lion_resolve(const void *options, void *config, double *lr) {
    const lion_options *o = options;
    lion_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-4);
    *c = (lion_config){cg_optional_or(o->beta1, 0.9), cg_optional_or(o->beta2, 0.99),
                       cg_optional_or(o->weight_decay, 0.0)};
    if (!(*lr >= 0) || !(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1)) {
        cg_error(CG_ERR_ARG, "Lion: invalid lr=%g, betas=(%g, %g)", *lr, c->beta1, c->beta2);
        return false;
    }
    return true;
}

// One parameter's update: p->state[0] is the "exp_avg" buffer (zeroed when created).
static void lion_step(const void *config, double lr, cg_optim_param *p) {
    const lion_config *c = config;
    float *m = p->state[0], b1 = (float)c->beta1, b2 = (float)c->beta2;
    float decay = (float)(1 - lr * c->weight_decay);
    for (int64_t i = 0; i < p->numel; i++) {
        float g = p->grad[i], u = b1 * m[i] + (1 - b1) * g;
        p->param[i] = p->param[i] * decay - (float)lr * (float)((u > 0) - (u < 0));
        m[i] = b2 * m[i] + (1 - b2) * g;
    }
}

// beta1 plays momentum's part, so OneCycleLR and CyclicLR can cycle it.
static double *lion_momentum(void *config) {
    return &((lion_config *)config)->beta1;
}

static const cg_optim_field lion_fields[] = {
    {"lr", offsetof(lion_options, lr), false},
    {"beta1", offsetof(lion_options, beta1), false},
    {"beta2", offsetof(lion_options, beta2), false},
    {"weight_decay", offsetof(lion_options, weight_decay), false},
};
static const cg_optim_key lion_keys[] = {{"exp_avg", false}}; // shaped like the parameter
static const cg_optimizer_class lion_class = {
    .name = "Lion",
    .options_size = sizeof(lion_options),
    .config_size = sizeof(lion_config),
    .fields = lion_fields,
    .n_fields = 4,
    .resolve = lion_resolve,
    .keys = lion_keys,
    .n_keys = 1,
    .step = lion_step,
    .momentum = lion_momentum,
};

// ---- check 1: two steps on a tiny tensor against the rule worked by hand ---------------------
static bool update_by_hand(void) {
    cg_tensor *p = cg_from_data(CG_SHAPE(3), (float[]){1, -2, 0.5f});
    p->requires_grad = true;
    cg_optimizer *opt = cg_optimizer_new(&lion_class, 1, &p, &(lion_options){.lr = CG_SET(0.1)});
    // Step 1: m = 0, so the sign is g's: [1, -1, 0]; then m = 0.01 g = [.003, -.001, 0].
    p->grad = cg_from_data(CG_SHAPE(3), (float[]){0.3f, -0.1f, 0});
    cg_optimizer_step(opt);
    // Step 2: 0.9 m + 0.1 g = [-.0473, -.0109, .02]: the sign is [-1, -1, 1].
    cg_free(p->grad);
    p->grad = cg_from_data(CG_SHAPE(3), (float[]){-0.5f, -0.1f, 0.2f});
    cg_optimizer_step(opt);
    const float expected[3] = {1.0f, -1.8f, 0.4f};
    bool ok = true;
    for (int i = 0; i < 3; i++) ok &= fabsf(p->data[i] - expected[i]) < 1e-6f;
    printf("two steps by hand: [%g, %g, %g] %s\n", p->data[0], p->data[1], p->data[2],
           ok ? "as worked out" : "WRONG");
    cg_optimizer_free(opt);
    cg_free(p); // frees its grad too
    return ok;
}

// ---- check 2: training with groups, a schedule, clipping, and a resume -----------------------
typedef struct run {
    cg_module *model;
    cg_optimizer *opt;
    cg_scheduler *sched;
} run;

// A linear model; the weight in group 0 (with weight decay), the bias in group 1 (its own
// lr, no decay: the AdamW recipe). StepLR halves both lrs every 20 steps.
static run make_run(uint64_t seed) {
    cg_manual_seed(seed);
    run r = {.model = cg_Linear(8, 1, NULL)};
    cg_tensor *weight = cg_module_param(r.model, "weight"),
              *bias = cg_module_param(r.model, "bias");
    r.opt = cg_optimizer_new(&lion_class, 1, &weight,
                             &(lion_options){.lr = CG_SET(0.05), .weight_decay = CG_SET(0.01)});
    cg_optimizer_add_param_group(r.opt, 1, &bias,
                                 &(lion_options){.lr = CG_SET(0.02), .weight_decay = CG_SET(0)});
    r.sched = cg_step_lr(r.opt, 20, 0.5f);
    return r;
}

static void free_run(run *r) {
    cg_scheduler_free(r->sched);
    cg_optimizer_free(r->opt);
    cg_module_free(r->model);
}

// Full-batch steps from..to; returns the last loss.
static double train(run *r, cg_tensor *x, cg_tensor *y, int from, int to) {
    double loss = NAN;
    for (int step = from; step < to; step++) {
        cg_scope_begin();
        cg_optimizer_zero_grad(r->opt);
        cg_tensor *l = cg_mse_loss(cg_module_forward(r->model, x), y, NULL);
        loss = cg_item(l);
        cg_backward(l);
        cg_optimizer_clip_grad_norm(r->opt, 1.0, NULL); // every group's grads together
        cg_optimizer_step(r->opt);
        cg_scheduler_step(r->sched);
        cg_scope_end();
    }
    return loss;
}

static bool same_bits(const cg_tensor *a, const cg_tensor *b) {
    return a->numel == b->numel && memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)) == 0;
}

int main(void) {
    bool by_hand = update_by_hand();

    // Data: y = x . w_true + 0.5 + a little noise. Outside any scope.
    cg_manual_seed(0);
    cg_tensor *x = cg_randn(CG_SHAPE(256, 8), NULL), *y = cg_randn(CG_SHAPE(256, 1), NULL);
    const float w_true[8] = {0.8f, -0.6f, 0.4f, 0.9f, -0.3f, 0.2f, -0.7f, 0.5f};
    for (int i = 0; i < 256; i++) {
        y->data[i] = 0.5f + 0.01f * y->data[i];
        for (int j = 0; j < 8; j++) y->data[i] += w_true[j] * x->data[8 * i + j];
    }

    // Run 1: 60 steps straight through, a checkpoint after 30.
    run a = make_run(1);
    double first = train(&a, x, y, 0, 1);
    train(&a, x, y, 1, 30);
    cg_checkpoint_meta meta = {.global_step = 30, .lr = cg_optimizer_lr(a.opt)};
    if (cg_checkpoint_save("guide_lion.ckpt", a.model, a.opt, &meta)) return 1;
    double last = train(&a, x, y, 30, 60);
    printf("loss %.4f -> %.4f; lrs now %g (weights) and %g (bias)\n", first, last,
           cg_optimizer_group_lr(a.opt, 0), cg_optimizer_group_lr(a.opt, 1));

    // Run 2, as a fresh process: same construction, the checkpoint restores the weights, the
    // exp_avg buffers (saved under "<param>.exp_avg", as PyTorch names state) and every
    // group's lr; the schedule is told where it is.
    run b = make_run(99);
    cg_checkpoint_meta loaded;
    if (cg_checkpoint_load("guide_lion.ckpt", b.model, b.opt, &loaded) ||
        cg_scheduler_set_epoch(b.sched, (int)loaded.global_step))
        return 1;
    train(&b, x, y, (int)loaded.global_step, 60);
    bool resumed =
        same_bits(cg_module_param(a.model, "weight"), cg_module_param(b.model, "weight")) &&
        same_bits(cg_module_param(a.model, "bias"), cg_module_param(b.model, "bias")) &&
        cg_optimizer_group_lr(a.opt, 1) == cg_optimizer_group_lr(b.opt, 1);
    cg_tensor_list sa = cg_optimizer_state(a.opt), sb = cg_optimizer_state(b.opt);
    resumed &= sa.count == 2 && sb.count == 2;
    for (int i = 0; resumed && i < sa.count; i++)
        resumed &= strcmp(sa.items[i].name, sb.items[i].name) == 0 &&
                   same_bits(sa.items[i].tensor, sb.items[i].tensor);
    printf("resumed after 30 steps: weights and state %s the uninterrupted run's\n",
           resumed ? "bit for bit" : "DIFFERENT from");

    // A bad option is refused by resolve, with the class's name in the message.
    cg_clear_error();
    cg_tensor *w = cg_module_param(a.model, "weight");
    bool refused = !cg_optimizer_new(&lion_class, 1, &w, &(lion_options){.beta2 = CG_SET(1.5)});
    printf("beta2=1.5: %s\n", cg_last_error_message());
    cg_clear_error();

    bool ok = by_hand && resumed && refused && last < 0.01 * first &&
              cg_optimizer_group_lr(a.opt, 0) == 0.05 * 0.5 * 0.5 * 0.5;
    cg_tensor_list_free(&sa), cg_tensor_list_free(&sb);
    free_run(&a), free_run(&b);
    cg_free(x), cg_free(y);
    return ok ? 0 : 1;
}
