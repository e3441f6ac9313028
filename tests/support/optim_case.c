// tests/support/optim_case.c - optimizers built from fixture cases, through the class's
// field table (optim/optim.h) so that no test lists the optimizers by hand.
#include "optim_case.h"

#include <string.h>

const cg_optimizer_class *cg_test_case_class(const cg_fixture_case *c) {
    const char *name = cg_fixture_case_name(c), *slash = strchr(name, '/');
    char id[32];
    if (!slash || slash - name >= (int)sizeof id) return NULL;
    memcpy(id, name, (size_t)(slash - name));
    id[slash - name] = '\0';
    return cg_optimizer_class_named(id);
}

// The options struct of cls from the case's params "<prefix><field>".
static void case_options(const cg_fixture_case *c, const cg_optimizer_class *cls,
                         const char *prefix, void *options) {
    char key[96];
    for (int f = 0; f < cls->n_fields; f++) {
        snprintf(key, sizeof key, "%s%s", prefix, cls->fields[f].name);
        if (cg_fixture_has(c, key))
            assert_int_equal(
                cg_optim_set_option(cls, options, cls->fields[f].name, cg_fixture_param(c, key, 0)),
                0);
    }
}

cg_optimizer *cg_test_case_optimizer(const cg_fixture_case *c, int n, cg_tensor **params,
                                     int *order) {
    const cg_optimizer_class *cls = cg_test_case_class(c);
    assert_non_null(cls);
    assert_true(n <= CG_TEST_MAX_PARAMS);
    _Alignas(max_align_t) char options[512] = {0}, group1[512] = {0};
    assert_true(cls->options_size <= sizeof options);
    case_options(c, cls, "", options);
    double groups[CG_TEST_MAX_PARAMS] = {0};
    if (cg_fixture_has(c, "groups")) assert_int_equal(cg_fixture_params(c, "groups", groups, n), n);
    cg_tensor *sorted[CG_TEST_MAX_PARAMS];
    int index[CG_TEST_MAX_PARAMS], n0 = 0, count = 0;
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < n; i++)
            if (groups[i] == g) {
                n0 += g == 0;
                index[count] = i;
                sorted[count++] = params[i];
            }
    assert_int_equal(count, n);
    if (order) memcpy(order, index, (size_t)n * sizeof *order);
    cg_optimizer *opt = cg_optimizer_new(cls, n0, sorted, options);
    if (!opt) fail_msg("%s: %s", cg_fixture_case_name(c), cg_test_last_message());
    if (n0 < n) {
        case_options(c, cls, "group1.", group1);
        if (cg_optimizer_add_param_group(opt, n - n0, sorted + n0, group1) != 1)
            fail_msg("%s: add_param_group: %s", cg_fixture_case_name(c), cg_test_last_message());
    }
    return opt;
}
