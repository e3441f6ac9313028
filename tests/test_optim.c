// tests/test_optim.c - optimizers and lr schedules against PyTorch (tests/fixtures/optim.txt):
// every parameter after every step of SGD (plain, momentum, dampening, nesterov, weight
// decay), Adam (default, weight decay, amsgrad) and AdamW, including a step where one
// parameter has no grad; the final state under PyTorch's state_dict names; StepLR and
// CosineAnnealingLR sequences. Then option errors, state listing, skipped parameters and
// checkpoint equivalence (state copied into a fresh optimizer continues identically).
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "optim_case.h"
#include "testing.h"

#define FIXTURE  "optim.txt"
#define N_PARAMS 3
#define RTOL     1e-5
#define ATOL     1e-6

static cg_fixture *fx;
static const cg_fixture_case *data;

static int setup(void **state) {
    (void)state;
    fx = cg_fixture_load(FIXTURE);
    data = fx ? cg_fixture_find(fx, "data") : NULL;
    return data ? 0 : -1;
}
static int teardown(void **state) {
    (void)state;
    cg_fixture_free(fx);
    return 0;
}

static int n_steps(void) {
    return (int)cg_fixture_param(data, "steps", 0);
}

static cg_tensor *data_tensor(const char *fmt, int a, int b) {
    char key[64];
    snprintf(key, sizeof key, fmt, a, b);
    cg_tensor *t = cg_fixture_tensor(data, key);
    if (!t) fail_msg("fixture data: no tensor %s", key);
    return t;
}

// Fresh leaves holding the fixture's starting parameters (owned by the caller).
static void make_params(cg_tensor **params) {
    for (int i = 0; i < N_PARAMS; i++)
        params[i] = cg_test_copy_leaf(data_tensor("p%d", i, 0), true);
}
static void free_params(cg_tensor **params) {
    for (int i = 0; i < N_PARAMS; i++) cg_free(params[i]);
}

// Give the parameters step k's gradients (none for the fixture's designated one).
static void set_grads(cg_tensor **params, int k) {
    int none_step = (int)cg_fixture_param(data, "none_step", -1);
    int none_param = (int)cg_fixture_param(data, "none_param", -1);
    for (int i = 0; i < N_PARAMS; i++) {
        cg_free(params[i]->grad);
        params[i]->grad = NULL;
        if (k == none_step && i == none_param) continue;
        params[i]->grad = cg_test_copy_leaf(data_tensor("g%d_%d", k, i), false);
    }
}

// The optimizer a case describes (tests/support/optim_case.h): every option the case
// passed to PyTorch, set by name through the class's field table.
static cg_optimizer *case_optimizer(const cg_fixture_case *c, cg_tensor **params) {
    return cg_test_case_optimizer(c, N_PARAMS, params, NULL);
}

static const cg_named_tensor *find_state(const cg_tensor_list *list, const char *name) {
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0) return &list->items[i];
    return NULL;
}

// Our state equals PyTorch's state_dict()["state"] entry by entry, both ways. SGD's "step"
// (cgrad's marker for "momentum buffer exists") has no PyTorch counterpart.
static void check_state(const cg_fixture_case *c, cg_optimizer *opt) {
    const char *name = cg_fixture_case_name(c);
    bool sgd = strncmp(name, "sgd/", 4) == 0;
    cg_tensor_list list = cg_optimizer_state(opt);
    int matched = 0, extra = 0;
    char key[96], what[160];
    const cg_optimizer_class *cls = cg_optimizer_get_class(opt);
    for (int i = 0; i < N_PARAMS; i++) {
        for (int k = 0; k < cls->n_keys; k++) {
            const char *state_key = cls->keys[k].name;
            snprintf(key, sizeof key, "%d.%s", i, state_key);
            const cg_named_tensor *ours = find_state(&list, key);
            snprintf(what, sizeof what, "state.%s", key);
            cg_tensor *expected = cg_fixture_tensor(c, what);
            if (!expected) {
                if (ours && !(sgd && strcmp(state_key, "step") == 0))
                    fail_msg("%s: unexpected state %s", name, key);
                extra += ours != NULL;
                continue;
            }
            if (!ours) fail_msg("%s: missing state %s", name, key);
            snprintf(what, sizeof what, "%s state %s", name, key);
            cg_assert_close(ours->tensor, expected, RTOL, ATOL, what);
            matched++;
        }
    }
    assert_int_equal(matched + extra, list.count);
    cg_tensor_list_free(&list);
}

static void test_trajectories(void **state) {
    (void)state;
    int cases = 0;
    char key[32], what[96];
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        if (!cg_test_case_class(c)) continue;
        cg_tensor *params[N_PARAMS];
        make_params(params);
        cg_optimizer *opt = case_optimizer(c, params);
        if (!opt) fail_msg("%s: %s", name, cg_test_last_message());
        for (int k = 0; k < n_steps(); k++) {
            set_grads(params, k);
            assert_int_equal(cg_optimizer_step(opt), 0);
            for (int i = 0; i < N_PARAMS; i++) {
                snprintf(key, sizeof key, "p%d_%d", i, k);
                snprintf(what, sizeof what, "%s param %d after step %d", name, i, k);
                cg_assert_close(params[i], cg_fixture_tensor(c, key), RTOL, ATOL, what);
            }
        }
        check_state(c, opt);
        cg_optimizer_free(opt);
        free_params(params);
        cases++;
    }
    assert_int_equal(cases, 24);
}

// Save after `k` steps (cg_optimizer_state of the running optimizer copied into the state
// of a fresh one over copies of the parameters), continue both: bit-identical results.
static void resume_case(const cg_fixture_case *c, int k) {
    cg_tensor *a[N_PARAMS], *b[N_PARAMS];
    make_params(a);
    cg_optimizer *oa = case_optimizer(c, a);
    assert_non_null(oa);
    for (int s = 0; s < k; s++) {
        set_grads(a, s);
        assert_int_equal(cg_optimizer_step(oa), 0);
    }
    for (int i = 0; i < N_PARAMS; i++) b[i] = cg_test_copy_leaf(a[i], true);
    cg_optimizer *ob = case_optimizer(c, b);
    assert_non_null(ob);
    cg_tensor_list saved = cg_optimizer_state(oa), loaded = cg_optimizer_state(ob);
    assert_int_equal(saved.count, loaded.count);
    for (int i = 0; i < saved.count; i++) {
        assert_string_equal(saved.items[i].name, loaded.items[i].name);
        cg_tensor *from = saved.items[i].tensor, *to = loaded.items[i].tensor;
        assert_true(cg_same_shape(from, to));
        memcpy(to->data, from->data, (size_t)from->numel * sizeof(float));
    }
    cg_tensor_list_free(&saved);
    cg_tensor_list_free(&loaded);
    char what[96];
    for (int s = k; s < n_steps(); s++) {
        set_grads(a, s);
        set_grads(b, s);
        assert_int_equal(cg_optimizer_step(oa), 0);
        assert_int_equal(cg_optimizer_step(ob), 0);
        for (int i = 0; i < N_PARAMS; i++) {
            snprintf(what, sizeof what, "%s resumed after %d steps: param %d at step %d",
                     cg_fixture_case_name(c), k, i, s);
            cg_assert_close(b[i], a[i], 0, 0, what);
        }
    }
    cg_optimizer_free(oa);
    cg_optimizer_free(ob);
    free_params(a);
    free_params(b);
}

static void test_resume_equivalence(void **state) {
    (void)state;
    // k = 0: nothing updated yet, so the momentum buffers must stay "absent" after loading.
    const int ks[] = {0, 1, 3};
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        if (!cg_test_case_class(c)) continue;
        for (size_t j = 0; j < sizeof ks / sizeof *ks; j++) resume_case(c, ks[j]);
    }
}

// A fresh optimizer whose state was listed (buffers created, zero) must still treat the
// momentum buffer as absent: first step buf = g, not momentum * 0 + (1 - dampening) * g.
static void test_listed_state_is_not_initialised(void **state) {
    (void)state;
    const cg_fixture_case *c = cg_fixture_find(fx, "sgd/dampening");
    assert_non_null(c);
    cg_tensor *params[N_PARAMS];
    make_params(params);
    cg_optimizer *opt = case_optimizer(c, params);
    cg_tensor_list list = cg_optimizer_state(opt);
    assert_int_equal(list.count, 2 * N_PARAMS);
    cg_tensor_list_free(&list);
    set_grads(params, 0);
    assert_int_equal(cg_optimizer_step(opt), 0);
    cg_assert_close(params[0], cg_fixture_tensor(c, "p0_0"), RTOL, ATOL, "dampening step 0");
    cg_optimizer_free(opt);
    free_params(params);
}

static void test_schedules(void **state) {
    (void)state;
    int cases = 0;
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, "sched/", 6) != 0) continue;
        cg_tensor *w = cg_zeros(CG_SHAPE(1));
        cg_sgd_options o = {.lr = CG_SET(cg_fixture_param(c, "lr", 0))};
        cg_optimizer *opt = cg_sgd(1, &w, &o), *replay = cg_sgd(1, &w, &o);
        bool step_lr = cg_fixture_has(c, "step_size");
        cg_scheduler *s = step_lr
                              ? cg_step_lr(opt, (int)cg_fixture_param(c, "step_size", 0),
                                           (float)cg_fixture_param(c, "gamma", 0))
                              : cg_cosine_annealing_lr(opt, (int)cg_fixture_param(c, "T_max", 0),
                                                       (float)cg_fixture_param(c, "eta_min", 0));
        cg_scheduler *r = step_lr
                              ? cg_step_lr(replay, (int)cg_fixture_param(c, "step_size", 0),
                                           (float)cg_fixture_param(c, "gamma", 0))
                              : cg_cosine_annealing_lr(replay, (int)cg_fixture_param(c, "T_max", 0),
                                                       (float)cg_fixture_param(c, "eta_min", 0));
        assert_non_null(s);
        assert_non_null(r);
        const cg_tensor *expected = cg_fixture_tensor(c, "lr");
        assert_non_null(expected);
        cg_tensor *lrs = cg_zeros(CG_SHAPE(expected->numel));
        for (int e = 0; e < expected->numel; e++) {
            if (e) cg_scheduler_step(s);
            assert_int_equal(cg_scheduler_epoch(s), e);
            lrs->data[e] = cg_optimizer_lr(opt);
            // Restoring the epoch (as a resumed run does) gives exactly the same lr.
            cg_scheduler_set_epoch(r, e);
            assert_int_equal(cg_scheduler_epoch(r), e);
            assert_true(cg_optimizer_lr(replay) == cg_optimizer_lr(opt));
        }
        cg_assert_close(lrs, expected, 1e-6, 1e-9, name);
        cg_free(lrs);
        cg_scheduler_free(s);
        cg_scheduler_free(r);
        cg_optimizer_free(opt);
        cg_optimizer_free(replay);
        cg_free(w);
        cases++;
    }
    assert_int_equal(cases, 4);
}

// ---- errors ------------------------------------------------------------------------------

static void expect_sgd_error(cg_sgd_options o, const char *message) {
    cg_tensor *w = cg_zeros(CG_SHAPE(2));
    assert_null(cg_sgd(1, &w, &o));
    cg_test_expect_error(CG_ERR_ARG, message);
    cg_free(w);
}
static void expect_adam_error(bool decoupled, cg_adam_options o, const char *message) {
    cg_tensor *w = cg_zeros(CG_SHAPE(2));
    assert_null(decoupled ? cg_adamw(1, &w, &o) : cg_adam(1, &w, &o));
    cg_test_expect_error(CG_ERR_ARG, message);
    cg_free(w);
}

static void test_option_errors(void **state) {
    (void)state;
    expect_sgd_error((cg_sgd_options){.lr = CG_SET(-0.1)}, "SGD: invalid learning rate lr=-0.1");
    expect_sgd_error((cg_sgd_options){.lr = CG_SET(NAN)}, "SGD: invalid learning rate");
    expect_sgd_error((cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(-0.5)},
                     "SGD: invalid momentum");
    expect_sgd_error((cg_sgd_options){.lr = CG_SET(0.1), .weight_decay = CG_SET(-1)},
                     "SGD: invalid weight_decay");
    expect_sgd_error((cg_sgd_options){.lr = CG_SET(0.1), .nesterov = true},
                     "SGD: nesterov requires");
    expect_sgd_error(
        (cg_sgd_options){
            .lr = CG_SET(0.1), .momentum = CG_SET(0.9), .dampening = CG_SET(0.1), .nesterov = true},
        "dampening=0.1");
    expect_adam_error(false, (cg_adam_options){.lr = CG_SET(-1)}, "Adam: invalid learning rate");
    expect_adam_error(false, (cg_adam_options){.lr = CG_SET(0.1), .betas = {CG_SET(1)}},
                      "Adam: invalid beta1=1");
    expect_adam_error(false, (cg_adam_options){.lr = CG_SET(0.1), .betas = {CG_SET(-0.5)}},
                      "Adam: invalid beta1=-0.5");
    expect_adam_error(true, (cg_adam_options){.lr = CG_SET(0.1), .betas = {{0}, CG_SET(1.5)}},
                      "AdamW: invalid beta2");
    expect_adam_error(true, (cg_adam_options){.lr = CG_SET(0.1), .eps = CG_SET(-1e-8)},
                      "AdamW: invalid eps");
    expect_adam_error(false, (cg_adam_options){.lr = CG_SET(0.1), .weight_decay = CG_SET(-0.1)},
                      "Adam: invalid weight_decay");

    cg_tensor *w = cg_zeros(CG_SHAPE(2));
    assert_null(cg_sgd(1, &w, &(cg_sgd_options){.momentum = CG_SET(0.9)}));
    cg_test_expect_error(CG_ERR_ARG, "SGD: lr is required (PyTorch's SGD has no default)");
    assert_null(cg_rmsprop(1, &w, &(cg_rmsprop_options){.alpha = CG_SET(-0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "RMSprop: invalid alpha=-0.1 (must be >= 0)");
    assert_null(cg_rmsprop(1, &w, &(cg_rmsprop_options){.momentum = CG_SET(-1)}));
    cg_test_expect_error(CG_ERR_ARG, "RMSprop: invalid momentum=-1");
    assert_null(cg_rmsprop(1, &w, &(cg_rmsprop_options){.lr = CG_SET(-2)}));
    cg_test_expect_error(CG_ERR_ARG, "RMSprop: invalid learning rate lr=-2");
    assert_null(cg_adagrad(1, &w, &(cg_adagrad_options){.lr_decay = CG_SET(-1)}));
    cg_test_expect_error(CG_ERR_ARG, "Adagrad: invalid lr_decay=-1");
    assert_null(
        cg_adagrad(1, &w, &(cg_adagrad_options){.initial_accumulator_value = CG_SET(-0.5)}));
    cg_test_expect_error(CG_ERR_ARG, "Adagrad: invalid initial_accumulator_value=-0.5");
    assert_null(cg_adagrad(1, &w, &(cg_adagrad_options){.eps = CG_SET(-1)}));
    cg_test_expect_error(CG_ERR_ARG, "Adagrad: invalid eps=-1");
    assert_null(cg_rmsprop_for(NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "RMSprop: model is NULL");
    // NULL options are PyTorch's defaults, as {0}.
    cg_optimizer *defaults = cg_adam(1, &w, NULL);
    assert_non_null(defaults);
    assert_true(cg_optimizer_lr(defaults) == 1e-3);
    cg_optimizer_free(defaults);
    defaults = cg_adagrad(1, &w, NULL);
    assert_true(cg_optimizer_lr(defaults) == 1e-2);
    cg_optimizer_free(defaults);
    assert_null(cg_sgd(1, &w, NULL)); // NULL is PyTorch's defaults: SGD has no default lr
    cg_test_expect_error(CG_ERR_ARG, "SGD: lr is required");
    assert_null(cg_adam(0, &w, &(cg_adam_options){.lr = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "Adam: got an empty parameter list");
    cg_tensor *with_null[2] = {w, NULL};
    assert_null(cg_sgd(2, with_null, &(cg_sgd_options){.lr = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "SGD: parameter 1 is NULL");
    assert_null(cg_sgd_for(NULL, &(cg_sgd_options){.lr = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "SGD: model is NULL");

    // A grad of the wrong shape is refused before anything is updated.
    cg_optimizer *opt = cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.1)});
    assert_non_null(opt);
    w->grad = cg_ones(CG_SHAPE(3));
    assert_int_equal(cg_optimizer_step(opt), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "SGD: parameter 0 has shape [2] but its grad has shape [3]");
    assert_true(w->data[0] == 0 && w->data[1] == 0);
    assert_int_equal(cg_optimizer_set_lr(opt, -1), -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: invalid learning rate lr=-1");
    assert_true(cg_optimizer_lr(opt) == 0.1);

    assert_null(cg_step_lr(opt, 0, 0.5f));
    cg_test_expect_error(CG_ERR_ARG, "StepLR: invalid step_size=0");
    assert_null(cg_cosine_annealing_lr(opt, -2, 0));
    cg_test_expect_error(CG_ERR_ARG, "CosineAnnealingLR: invalid t_max=-2");
    assert_null(cg_step_lr(NULL, 2, 0.5f));
    cg_test_expect_error(CG_ERR_ARG, "StepLR: optimizer is NULL");
    cg_scheduler *s = cg_step_lr(opt, 2, 0.5f);
    cg_scheduler_set_epoch(s, -1);
    cg_test_expect_error(CG_ERR_ARG, "invalid epoch -1");
    cg_scheduler_free(s);
    cg_optimizer_free(opt);
    cg_free(w);
}

// ---- behaviour -------------------------------------------------------------------------

static void test_state_names(void **state) {
    (void)state;
    cg_tensor *ws[2] = {cg_zeros(CG_SHAPE(2, 3)), cg_zeros(CG_SHAPE(4))};
    cg_optimizer *plain = cg_sgd(2, ws, &(cg_sgd_options){.lr = CG_SET(0.1)});
    cg_tensor_list list = cg_optimizer_state(plain);
    assert_int_equal(list.count, 0); // PyTorch: momentum_buffer None, nothing to save
    cg_tensor_list_free(&list);
    cg_optimizer_free(plain);

    cg_optimizer *sgd =
        cg_sgd(2, ws, &(cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(0.9)});
    list = cg_optimizer_state(sgd);
    const char *sgd_names[] = {"0.momentum_buffer", "0.step", "1.momentum_buffer", "1.step"};
    assert_int_equal(list.count, 4);
    for (int i = 0; i < 4; i++) assert_string_equal(list.items[i].name, sgd_names[i]);
    assert_true(cg_same_shape(list.items[0].tensor, ws[0]));
    assert_int_equal(list.items[1].tensor->ndim, 0);
    assert_true(cg_same_shape(list.items[2].tensor, ws[1]));
    cg_tensor_list_free(&list);
    cg_optimizer_free(sgd);

    cg_optimizer *adam = cg_adam(2, ws, &(cg_adam_options){.lr = CG_SET(0.1), .amsgrad = true});
    list = cg_optimizer_state(adam);
    const char *adam_names[] = {"0.step", "0.exp_avg", "0.exp_avg_sq", "0.max_exp_avg_sq",
                                "1.step", "1.exp_avg", "1.exp_avg_sq", "1.max_exp_avg_sq"};
    assert_int_equal(list.count, 8);
    for (int i = 0; i < 8; i++) assert_string_equal(list.items[i].name, adam_names[i]);
    assert_int_equal(list.items[4].tensor->numel, 1);
    assert_true(cg_same_shape(list.items[7].tensor, ws[1]));
    cg_tensor_list_free(&list);
    cg_optimizer_free(adam);

    cg_optimizer *adamw = cg_adamw(1, ws, &(cg_adam_options){.lr = CG_SET(0.1)});
    list = cg_optimizer_state(adamw);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[2].name, "0.exp_avg_sq");
    cg_tensor_list_free(&list);
    cg_optimizer_free(adamw);
    cg_free(ws[0]);
    cg_free(ws[1]);
}

// Parameters without a grad are neither updated nor given state (their step stays 0);
// zero_grad zeroes the grads that exist.
static void test_skips_params_without_grad(void **state) {
    (void)state;
    cg_tensor *ws[2] = {cg_full(CG_SHAPE(3), 1.0f), cg_full(CG_SHAPE(2), 2.0f)};
    cg_requires_grad(ws[0], true);
    cg_requires_grad(ws[1], true);
    ws[0]->grad = cg_full(CG_SHAPE(3), 0.5f);
    cg_optimizer *opt = cg_adam(2, ws, &(cg_adam_options){.lr = CG_SET(0.1)});
    for (int s = 0; s < 3; s++) assert_int_equal(cg_optimizer_step(opt), 0);
    // Adam's first steps move by ~lr along -sign(g).
    assert_float_equal(ws[0]->data[0], 1.0f - 3 * 0.1f, 1e-5);
    assert_true(ws[1]->data[0] == 2.0f && ws[1]->data[1] == 2.0f);
    cg_tensor_list list = cg_optimizer_state(opt);
    assert_true(cg_item(find_state(&list, "0.step")->tensor) == 3);
    assert_true(cg_item(find_state(&list, "1.step")->tensor) == 0);
    cg_tensor_list_free(&list);
    cg_optimizer_zero_grad(opt);
    assert_true(ws[0]->grad->data[0] == 0 && ws[0]->grad->data[2] == 0);
    assert_null(ws[1]->grad);
    cg_optimizer_free(opt);
    cg_free(ws[0]);
    cg_free(ws[1]);
}

// Large parameters take the OpenMP path: the result must not depend on the thread count.
static void test_threads_do_not_change_results(void **state) {
    (void)state;
    const int64_t n = 300000;
    cg_rng rng;
    cg_rng_seed(&rng, 11);
    cg_tensor *start = cg_randn(CG_SHAPE(n), &rng), *grad = cg_randn(CG_SHAPE(n), &rng);
    cg_tensor *results[2];
    int saved_threads = cg_num_threads();
    for (int t = 0; t < 2; t++) {
        cg_set_num_threads(t + 1);
        cg_tensor *w = cg_test_copy_leaf(start, true);
        w->grad = cg_test_copy_leaf(grad, false);
        cg_optimizer *opt = cg_adamw(
            1, &w,
            &(cg_adam_options){.lr = CG_SET(0.01), .amsgrad = true, .weight_decay = CG_SET(0.1)});
        cg_optimizer *sgd =
            cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.01), .momentum = CG_SET(0.9)});
        for (int s = 0; s < 3; s++) {
            assert_int_equal(cg_optimizer_step(opt), 0);
            assert_int_equal(cg_optimizer_step(sgd), 0);
        }
        cg_optimizer_free(opt);
        cg_optimizer_free(sgd);
        results[t] = w;
    }
    cg_set_num_threads(saved_threads);
    cg_assert_close(results[1], results[0], 0, 0, "2 threads vs 1");
    cg_free(results[0]);
    cg_free(results[1]);
    cg_free(start);
    cg_free(grad);
}

// cg_*_for takes a module's parameters in named_parameters() order.
static const cg_module_class PAIR = {.name = "Pair"};

static void test_for_module(void **state) {
    (void)state;
    cg_module *root = cg_module_new(&PAIR, NULL, 0);
    cg_module *child = cg_module_add_child(root, "0", cg_module_new(&PAIR, NULL, 0));
    cg_module_add_param(child, "weight", cg_full(CG_SHAPE(2), 1.0f));
    cg_module_add_param(root, "bias", cg_full(CG_SHAPE(1), 1.0f));
    cg_tensor *weight = cg_module_param(child, "weight"), *bias = cg_module_param(root, "bias");
    weight->grad = cg_ones(CG_SHAPE(2));
    bias->grad = cg_full(CG_SHAPE(1), 2.0f);
    cg_optimizer *opt = cg_sgd_for(root, &(cg_sgd_options){.lr = CG_SET(0.5)});
    assert_non_null(opt);
    assert_int_equal(cg_optimizer_step(opt), 0);
    assert_true(weight->data[0] == 0.5f && weight->data[1] == 0.5f && bias->data[0] == 0.0f);
    cg_optimizer_free(opt);
    opt = cg_adamw_for(root, &(cg_adam_options){.lr = CG_SET(0.5)});
    cg_tensor_list list = cg_optimizer_state(opt);
    assert_int_equal(list.count, 6);
    // named_parameters(): a module's own parameters before its children's.
    assert_true(cg_same_shape(list.items[1].tensor, bias));
    assert_true(cg_same_shape(list.items[4].tensor, weight));
    cg_tensor_list_free(&list);
    cg_optimizer_free(opt);
    cg_module *empty = cg_module_new(&PAIR, NULL, 0);
    assert_null(cg_adam_for(empty, &(cg_adam_options){.lr = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "Adam: got an empty parameter list");
    cg_module_free(empty);
    cg_module_free(root);
}

// Every test must give back what it allocated (optimizer state, parameter lists, lists).
#define TEST(f) CG_TEST_NO_LEAKS(f)

int main(void) {
    const struct CMUnitTest tests[] = {
        TEST(test_trajectories),
        TEST(test_resume_equivalence),
        TEST(test_listed_state_is_not_initialised),
        TEST(test_schedules),
        TEST(test_option_errors),
        TEST(test_state_names),
        TEST(test_skips_params_without_grad),
        TEST(test_threads_do_not_change_results),
        TEST(test_for_module),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("optim", tests, setup, teardown);
}
