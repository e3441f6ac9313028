// tests/test_norm.c - batch_norm1d, instance_norm, group_norm, layer_norm and their modules
// (BatchNorm1d/2d with every option, LayerNorm, GroupNorm, InstanceNorm2d) against PyTorch
// (tests/fixtures/gen_layers.py: output and every gradient), their reprs and state_dict
// names, and an error for each bad argument. Gradchecks: tests/support/op_cases.def.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE      "layers.txt"
#define EDGE_FIXTURE "norm_edge.txt" // tests/fixtures/gen_norm_edge.py

static float eps_of(const cg_fixture_case *c) {
    return (float)cg_fixture_param(c, "eps", 1e-5);
}

static cg_tensor *run_batch_norm1d(cg_tensor **in, const cg_fixture_case *c) {
    return cg_test_batch_norm_case(cg_batch_norm1d, in, c);
}
static cg_tensor *run_instance_norm(cg_tensor **in, const cg_fixture_case *c) {
    return cg_instance_norm(in[0], 2, NULL, NULL, in[1], in[2], true, 0.1f, eps_of(c));
}
static cg_tensor *run_instance_norm_plain(cg_tensor **in, const cg_fixture_case *c) {
    return cg_instance_norm(in[0], 2, NULL, NULL, NULL, NULL, true, 0.1f, eps_of(c));
}
// Eval with the case's running statistics (tests/fixtures/gen_norm_edge.py: 1x1 planes).
static cg_tensor *run_instance_norm_eval(cg_tensor **in, const cg_fixture_case *c) {
    return cg_instance_norm(in[0], 2, cg_fixture_tensor(c, "running_mean"),
                            cg_fixture_tensor(c, "running_var"), in[1], in[2], false, 0.1f,
                            eps_of(c));
}
static cg_tensor *run_group_norm(cg_tensor **in, const cg_fixture_case *c) {
    return cg_group_norm(in[0], (int)cg_fixture_param(c, "num_groups", 0), in[1], in[2], eps_of(c));
}
static cg_tensor *layer_norm(cg_tensor **in, const cg_fixture_case *c, bool affine) {
    double shape[CG_MAX_DIMS];
    int n = cg_fixture_params(c, "normalized_shape", shape, CG_MAX_DIMS);
    int64_t normalized[CG_MAX_DIMS];
    for (int i = 0; i < n; i++) normalized[i] = (int64_t)shape[i];
    return cg_layer_norm(in[0], n, normalized, affine ? in[1] : NULL, affine ? in[2] : NULL,
                         eps_of(c));
}
static cg_tensor *run_layer_norm(cg_tensor **in, const cg_fixture_case *c) {
    return layer_norm(in, c, true);
}
static cg_tensor *run_layer_norm_plain(cg_tensor **in, const cg_fixture_case *c) {
    return layer_norm(in, c, false);
}

// Statistics over up to 60 values accumulate in another order than PyTorch's.
static const cg_test_tolerance SUM_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"batch_norm1d", FIXTURE, 3, {"x", "weight", "bias"}, run_batch_norm1d, &SUM_TOL},
    {"instance_norm", FIXTURE, 3, {"x", "weight", "bias"}, run_instance_norm, &SUM_TOL},
    {"instance_norm_plain", FIXTURE, 1, {"x"}, run_instance_norm_plain, &SUM_TOL},
    {"instance_norm_eval",
     EDGE_FIXTURE,
     3,
     {"x", "weight", "bias"},
     run_instance_norm_eval,
     &SUM_TOL},
    {"group_norm", FIXTURE, 3, {"x", "weight", "bias"}, run_group_norm, &SUM_TOL},
    {"layer_norm", FIXTURE, 3, {"x", "weight", "bias"}, run_layer_norm, &SUM_TOL},
    {"layer_norm_plain", FIXTURE, 1, {"x"}, run_layer_norm_plain, &SUM_TOL},
};

// ---- BatchNorm modules over several batches: momentum=None, affine=False, untracked ---------

typedef struct module_case {
    const char *name;
    bool two_d;
    int features;
    cg_batch_norm_options o;
    int batches;
} module_case;

static const module_case MODULE_CASES[] = {
    {"BatchNorm2d/cumulative", true, 3, {.cumulative_average = true}, 3},
    {"BatchNorm2d/no_affine", true, 3, {.no_affine = true}, 2},
    {"BatchNorm2d/untracked", true, 3, {.no_running_stats = true}, 2},
    {"BatchNorm2d/momentum0", true, 2, {.momentum = CG_SET(0.0), .eps = CG_SET(1e-3)}, 2},
    {"BatchNorm1d/default", false, 4, {.no_affine = false}, 2},
    {"BatchNorm1d/cumulative_3d", false, 2, {.cumulative_average = true}, 3},
};

// Runs `batches` training batches through m (taking it), then compares the last output,
// the buffers and an eval output with fixture case `name`.
static void check_module_case(const cg_fixture *fx, const char *name, cg_module *m, int batches) {
    const cg_fixture_case *c = cg_fixture_find(fx, name);
    if (!c) fail_msg("fixture has no case %s", name);
    assert_non_null(m);
    cg_scope_begin();
    cg_tensor *y = NULL;
    for (int i = 0; i < batches; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", i);
        y = cg_module_forward(m, cg_fixture_tensor(c, key));
    }
    cg_assert_close(y, cg_fixture_tensor(c, "out"), 1e-5, 1e-5, name);
    const char *buffers[] = {"running_mean", "running_var", "num_batches_tracked"};
    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "%s_out", buffers[i]);
        cg_tensor *expected = cg_fixture_tensor(c, key);
        cg_tensor *actual = cg_module_buffer(m, buffers[i]);
        if (!expected != !actual) fail_msg("%s: buffer %s present in only one", name, key);
        if (expected) cg_assert_close(actual, expected, 1e-5, 1e-6, key);
    }
    cg_module_eval(m);
    cg_assert_close(cg_module_forward(m, cg_fixture_tensor(c, "x0")),
                    cg_fixture_tensor(c, "eval_out"), 1e-5, 1e-5, "eval output");
    cg_scope_end();
    cg_module_free(m);
}

static void test_norm_module_options(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture(FIXTURE);
    for (size_t i = 0; i < sizeof MODULE_CASES / sizeof MODULE_CASES[0]; i++) {
        const module_case *mc = &MODULE_CASES[i];
        check_module_case(fx, mc->name,
                          mc->two_d ? cg_BatchNorm2d(mc->features, &mc->o)
                                    : cg_BatchNorm1d(mc->features, &mc->o),
                          mc->batches);
    }
    cg_instance_norm_options tracked = {
        .momentum = CG_SET(0.2), .affine = true, .track_running_stats = true};
    check_module_case(fx, "InstanceNorm2d/tracked", cg_InstanceNorm2d(3, &tracked), 2);
    cg_fixture_free(fx);
}

// An empty batch after a real one leaves the running statistics as PyTorch does (and
// num_batches_tracked still counts it).
static void test_batch_norm_empty_batch(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture(EDGE_FIXTURE);
    check_module_case(fx, "BatchNorm2d/empty_batch", cg_BatchNorm2d(3, NULL), 2);
    check_module_case(fx, "BatchNorm1d/empty_batch",
                      cg_BatchNorm1d(4, &(cg_batch_norm_options){.cumulative_average = true}), 2);
    cg_fixture_free(fx);
}

// ---- reprs, state_dict names and parameter counts --------------------------------------------

static void expect_module(cg_module *m, const char *repr, const char *state_dict, int64_t params) {
    assert_non_null(m);
    char buf[256];
    m->cls->describe(m, buf, sizeof buf);
    assert_string_equal(buf, repr);
    cg_tensor_list sd = cg_module_state_dict(m);
    char names[256] = "";
    for (int i = 0; i < sd.count; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), i ? " %s" : "%s",
                 sd.items[i].name);
    assert_string_equal(names, state_dict);
    cg_tensor_list_free(&sd);
    assert_int_equal(cg_module_num_parameters(m), params);
    cg_module_free(m);
}

static void test_reprs_and_state_dicts(void **state) {
    (void)state;
    expect_module(cg_BatchNorm1d(4, NULL),
                  "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
                  "weight bias running_mean running_var num_batches_tracked", 8);
    expect_module(
        cg_BatchNorm2d(3, &(cg_batch_norm_options){.cumulative_average = true, .no_affine = true}),
        "BatchNorm2d(3, eps=1e-05, momentum=None, affine=False, track_running_stats=True)",
        "running_mean running_var num_batches_tracked", 0);
    expect_module(
        cg_BatchNorm2d(2, &(cg_batch_norm_options){.no_running_stats = true, .eps = CG_SET(0.001)}),
        "BatchNorm2d(2, eps=0.001, momentum=0.1, affine=True, track_running_stats=False)",
        "weight bias", 4);
    expect_module(cg_LayerNorm(CG_SHAPE(8), NULL),
                  "LayerNorm((8,), eps=1e-05, elementwise_affine=True)", "weight bias", 16);
    expect_module(cg_LayerNorm(CG_SHAPE(2, 3), &(cg_norm_options){.no_affine = true}),
                  "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False)", "", 0);
    expect_module(cg_GroupNorm(2, 6, NULL), "GroupNorm(2, 6, eps=1e-05, affine=True)",
                  "weight bias", 12);
    expect_module(cg_InstanceNorm2d(3, NULL),
                  "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                  "track_running_stats=False)",
                  "", 0);
    expect_module(cg_InstanceNorm2d(3, &(cg_instance_norm_options){.affine = true}),
                  "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, "
                  "track_running_stats=False)",
                  "weight bias", 6);
    expect_module(cg_InstanceNorm2d(2, &(cg_instance_norm_options){.track_running_stats = true}),
                  "InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=False, "
                  "track_running_stats=True)",
                  "running_mean running_var num_batches_tracked", 0);
}

// The modules run the functionals: LayerNorm/GroupNorm/InstanceNorm2d outputs match them.
static void test_modules_match_functionals(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 4, 3, 3), NULL);
    cg_module *ln = cg_LayerNorm(CG_SHAPE(3, 3), NULL);
    cg_module *gn = cg_GroupNorm(2, 4, NULL);
    cg_module *in = cg_InstanceNorm2d(4, NULL);
    cg_assert_close(cg_module_forward(ln, x), cg_layer_norm(x, CG_SHAPE(3, 3), NULL, NULL, 1e-5f),
                    0, 0, "LayerNorm");
    cg_assert_close(cg_module_forward(gn, x), cg_group_norm(x, 2, NULL, NULL, 1e-5f), 0, 0,
                    "GroupNorm");
    cg_assert_close(cg_module_forward(in, x), cg_group_norm(x, 4, NULL, NULL, 1e-5f), 1e-6, 1e-6,
                    "InstanceNorm2d is GroupNorm with one channel per group");
    cg_scope_end();
    cg_module_free(ln);
    cg_module_free(gn);
    cg_module_free(in);
}

// ---- errors ----------------------------------------------------------------------------------

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(2, 4, 3));
    assert_null(
        cg_batch_norm1d(cg_zeros(CG_SHAPE(2, 4, 3, 3)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm1d: expected 2-D or 3-D input");
    assert_null(cg_batch_norm1d(x, NULL, NULL, cg_ones(CG_SHAPE(3)), NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm1d: weight [3] does not match the 4 channels");
    assert_null(
        cg_batch_norm1d(cg_zeros(CG_SHAPE(1, 4)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm1d: expected more than 1 value per channel");
    assert_null(cg_group_norm(x, 3, NULL, NULL, 1e-5f));
    cg_test_expect_error(CG_ERR_ARG, "group_norm: num_groups 3 must be > 0 and divide the 4");
    // PyTorch refuses one value per statistic in all (N * C / G * spatial == 1) ...
    assert_null(cg_group_norm(cg_zeros(CG_SHAPE(1, 4, 1)), 4, NULL, NULL, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "group_norm: expected more than 1 value per group");
    // ... but takes two samples of one value per group (their output is 0)
    assert_non_null(cg_group_norm(cg_zeros(CG_SHAPE(2, 4)), 4, NULL, NULL, 1e-5f));
    assert_null(cg_group_norm(cg_zeros(CG_SHAPE(4)), 1, NULL, NULL, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "group_norm: expected input (N, C, *)");
    assert_null(cg_group_norm(x, 2, NULL, cg_ones(CG_SHAPE(2)), 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "group_norm: bias [2] does not match the 4 channels");
    assert_null(cg_layer_norm(x, CG_SHAPE(4), NULL, NULL, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "layer_norm: input [2,4,3] does not end in");
    assert_null(cg_layer_norm(x, CG_SHAPE(3), cg_ones(CG_SHAPE(4)), NULL, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "layer_norm: weight [4] does not match normalized_shape");
    assert_null(
        cg_instance_norm(cg_zeros(CG_SHAPE(4, 3)), 2, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "instance_norm: expected a 3-D or 4-D input");
    assert_null(cg_instance_norm(cg_zeros(CG_SHAPE(2, 3, 1, 1)), 2, NULL, NULL, NULL, NULL, true,
                                 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "instance_norm: expected more than 1 spatial element");
    assert_null(cg_instance_norm(cg_zeros(CG_SHAPE(2, 3, 2, 2)), 2, NULL, NULL,
                                 cg_ones(CG_SHAPE(2)), NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "instance_norm: weight [2] does not match the 3 channels");
    cg_tensor *x4 = cg_zeros(CG_SHAPE(2, 3, 2, 2));
    assert_null(
        cg_instance_norm(x4, 2, cg_zeros(CG_SHAPE(4)), NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "instance_norm: running_mean [4] does not match the 3");
    assert_null(
        cg_instance_norm(x4, 2, cg_zeros(CG_SHAPE(3)), NULL, NULL, NULL, false, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_ARG,
                         "instance_norm: without use_input_stats it needs running_mean");
    cg_scope_end();

    assert_null(cg_BatchNorm1d(0, NULL));
    cg_test_expect_error(CG_ERR_ARG, "BatchNorm1d: num_features 0 must be > 0");
    assert_null(cg_BatchNorm2d(3, &(cg_batch_norm_options){.momentum = CG_SET(1.5)}));
    cg_test_expect_error(CG_ERR_ARG, "BatchNorm2d: eps 1e-05 must be >= 0 and momentum 1.5");
    assert_null(cg_BatchNorm2d(3, &(cg_batch_norm_options){.eps = CG_SET(-1)}));
    cg_test_expect_error(CG_ERR_ARG, "BatchNorm2d: eps -1");
    assert_null(cg_LayerNorm(0, NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "LayerNorm: normalized_shape must have 1 to");
    assert_null(cg_LayerNorm(CG_SHAPE(3, 0), NULL));
    cg_test_expect_error(CG_ERR_ARG, "LayerNorm: normalized_shape");
    assert_null(cg_GroupNorm(4, 6, NULL));
    cg_test_expect_error(CG_ERR_ARG,
                         "GroupNorm: num_groups 4 must be > 0 and divide num_channels 6");
    assert_null(cg_InstanceNorm2d(-1, NULL));
    cg_test_expect_error(CG_ERR_ARG, "InstanceNorm2d: num_features -1");
    // a module with a wrong input names the op and both shapes
    cg_module *bn = cg_BatchNorm1d(3, NULL);
    cg_scope_begin();
    assert_null(cg_module_forward(bn, cg_zeros(CG_SHAPE(2, 4))));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm1d: running_mean [3] does not match the 4");
    cg_scope_end();
    cg_module_free(bn);
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_norm_module_options, cg_test_teardown),
        cmocka_unit_test_teardown(test_batch_norm_empty_batch, cg_test_teardown),
        cmocka_unit_test_teardown(test_reprs_and_state_dicts, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules_match_functionals, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("norm", OPS, extra, 11);
}
