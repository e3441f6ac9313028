// tests/test_views.c - views share storage (write through one, read through the other),
// layout copies (permute/transpose/cat/narrow) against PyTorch, arange, and view errors.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "tensor_ops.txt"

static int int_param(const cg_fixture_case *c, const char *key) {
    if (!cg_fixture_has(c, key)) fail_msg("%s: missing param %s", cg_fixture_case_name(c), key);
    return (int)cg_fixture_param(c, key, 0);
}

// ---- against the PyTorch reference ----------------------------------------------------------
static cg_tensor *run_permute(cg_tensor **in, const cg_fixture_case *c) {
    double v[CG_MAX_DIMS];
    int dims[CG_MAX_DIMS];
    int n = cg_fixture_params(c, "dims", v, CG_MAX_DIMS);
    assert_int_equal(n, in[0]->ndim);
    for (int i = 0; i < n; i++) dims[i] = (int)v[i];
    return cg_permute(in[0], dims);
}
static cg_tensor *run_transpose(cg_tensor **in, const cg_fixture_case *c) {
    return cg_transpose(in[0], int_param(c, "dim0"), int_param(c, "dim1"));
}
static cg_tensor *run_cat(cg_tensor **in, const cg_fixture_case *c) {
    return cg_cat(int_param(c, "n"), in, int_param(c, "dim"));
}
static cg_tensor *run_narrow(cg_tensor **in, const cg_fixture_case *c) {
    return cg_narrow(in[0], int_param(c, "dim"), int_param(c, "start"), int_param(c, "length"));
}
static cg_tensor *run_slice(cg_tensor **in, const cg_fixture_case *c) {
    return cg_slice(in[0], int_param(c, "start"), int_param(c, "end"));
}
static cg_tensor *run_flatten(cg_tensor **in, const cg_fixture_case *c) {
    return cg_flatten(in[0], int_param(c, "start"), int_param(c, "end"));
}
static cg_tensor *run_reshape(cg_tensor **in, const cg_fixture_case *c) {
    double v[CG_MAX_DIMS];
    int64_t shape[CG_MAX_DIMS];
    int n = cg_fixture_params(c, "shape", v, CG_MAX_DIMS);
    for (int i = 0; i < n; i++) shape[i] = (int64_t)v[i];
    return cg_reshape(in[0], n, shape);
}
static cg_tensor *run_squeeze(cg_tensor **in, const cg_fixture_case *c) {
    return cg_squeeze(in[0], int_param(c, "dim"));
}
static cg_tensor *run_squeeze_all(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_squeeze_all(in[0]);
}
static cg_tensor *run_unsqueeze(cg_tensor **in, const cg_fixture_case *c) {
    return cg_unsqueeze(in[0], int_param(c, "dim"));
}
static cg_tensor *run_arange(cg_tensor **in, const cg_fixture_case *c) {
    (void)in;
    return cg_arange((float)cg_fixture_param(c, "start", NAN),
                     (float)cg_fixture_param(c, "end", NAN),
                     (float)cg_fixture_param(c, "step", NAN));
}

static const cg_test_op OPS[] = {
    {"permute", FIXTURE, 1, {"x"}, run_permute, NULL},
    {"transpose", FIXTURE, 1, {"x"}, run_transpose, NULL},
    {"narrow", FIXTURE, 1, {"x"}, run_narrow, NULL},
    {"slice", FIXTURE, 1, {"x"}, run_slice, NULL},
    {"flatten", FIXTURE, 1, {"x"}, run_flatten, NULL},
    {"reshape", FIXTURE, 1, {"x"}, run_reshape, NULL},
    {"squeeze", FIXTURE, 1, {"x"}, run_squeeze, NULL},
    {"squeeze_all", FIXTURE, 1, {"x"}, run_squeeze_all, NULL},
    {"unsqueeze", FIXTURE, 1, {"x"}, run_unsqueeze, NULL},
    {"arange", FIXTURE, 0, {NULL}, run_arange, NULL},
};

// The cat cases have 1 to 3 inputs (x0, x1, x2; param n), so they are run here rather than
// from the table, which has a fixed number of inputs per op.
static void test_cat_cases(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture(FIXTURE);
    static const char *const keys[] = {"x0", "x1", "x2"};
    int matched = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        if (strncmp(cg_fixture_case_name(c), "cat/", 4) != 0) continue;
        cg_test_check_case(c, int_param(c, "n"), keys, run_cat, NULL);
        matched++;
    }
    cg_fixture_free(fx);
    assert_true(matched >= 5);
}

// ---- storage sharing ------------------------------------------------------------------------

// v must be a view of t: same storage, and a write through either is seen through the other.
// `t_index` and `v_index` address the same element.
static void check_shares(cg_tensor *t, cg_tensor *v, int nt, const int64_t *t_index, int nv,
                         const int64_t *v_index, const char *what) {
    if (!v) fail_msg("%s: NULL (%s)", what, cg_last_error_message());
    if (v->storage != t->storage) fail_msg("%s: does not share storage", what);
    float before = cg_get(t, nt, t_index);
    if (cg_get(v, nv, v_index) != before) fail_msg("%s: views disagree before write", what);
    cg_set(v, nv, v_index, 123.5f);
    if (cg_get(t, nt, t_index) != 123.5f) fail_msg("%s: write through view not seen", what);
    cg_set(t, nt, t_index, -7.25f);
    if (cg_get(v, nv, v_index) != -7.25f) fail_msg("%s: write through base not seen", what);
    cg_set(t, nt, t_index, before);
}

static void test_views_share_storage(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *t = cg_reshape(cg_arange(0, 24, 1), CG_SHAPE(2, 3, 4));
    // element [1,2,3] has flat index 23; [1,0,1] has flat index 13
    check_shares(t, cg_reshape(t, CG_SHAPE(6, 4)), CG_SHAPE(1, 2, 3), CG_SHAPE(5, 3), "reshape");
    check_shares(t, cg_reshape(t, CG_SHAPE(-1, 12)), CG_SHAPE(1, 0, 1), CG_SHAPE(1, 1),
                 "reshape -1");
    check_shares(t, cg_view(t, CG_SHAPE(24)), CG_SHAPE(1, 0, 1), CG_SHAPE(13), "view");
    check_shares(t, cg_flatten(t, 1, -1), CG_SHAPE(1, 2, 3), CG_SHAPE(1, 11), "flatten");
    check_shares(t, cg_unsqueeze(t, 1), CG_SHAPE(1, 2, 3), CG_SHAPE(1, 0, 2, 3), "unsqueeze");
    cg_tensor *u = cg_reshape(t, CG_SHAPE(2, 1, 12));
    check_shares(t, cg_squeeze(u, 1), CG_SHAPE(1, 0, 1), CG_SHAPE(1, 1), "squeeze");
    check_shares(t, cg_squeeze_all(u), CG_SHAPE(1, 0, 1), CG_SHAPE(1, 1), "squeeze_all");
    check_shares(t, cg_slice(t, 1, 2), CG_SHAPE(1, 0, 1), CG_SHAPE(0, 0, 1), "slice");
    check_shares(t, cg_narrow(t, 0, 1, 1), CG_SHAPE(1, 2, 3), CG_SHAPE(0, 2, 3), "narrow dim 0");
    // narrow along dim 1 of [1,3,8]: every dim before has size 1, so still a view
    cg_tensor *w = cg_reshape(t, CG_SHAPE(1, 3, 8));
    check_shares(t, cg_narrow(w, 1, 1, 2), CG_SHAPE(1, 0, 1), CG_SHAPE(0, 0, 5),
                 "narrow after size-1 dims");
    check_shares(t, cg_detach(t), CG_SHAPE(1, 2, 3), CG_SHAPE(1, 2, 3), "detach");
    // A view of a view still reaches the same storage.
    cg_tensor *vv = cg_reshape(cg_slice(cg_reshape(t, CG_SHAPE(4, 6)), 2, 4), CG_SHAPE(3, 4));
    check_shares(t, vv, CG_SHAPE(1, 0, 1), CG_SHAPE(0, 1), "view of slice of view");
    cg_scope_end();
}

// narrow along an inner dim with a non-trivial outer dim is a copy (documented): writing to it
// leaves the input alone.
static void test_narrow_inner_copies(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *t = cg_reshape(cg_arange(0, 12, 1), CG_SHAPE(3, 4));
    cg_tensor *n = cg_narrow(t, 1, 1, 2);
    cg_assert_close(n, cg_test_tensor(CG_SHAPE(3, 2), (float[]){1, 2, 5, 6, 9, 10}), 0, 0,
                    "narrow dim 1");
    cg_set(n, CG_SHAPE(0, 0), 100);
    assert_float_equal(cg_get(t, CG_SHAPE(0, 1)), 1, 0);
    cg_scope_end();
}

// detach: same storage, no graph, no grad requirement; the gradient stops there.
static void test_detach(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_test_tensor(CG_SHAPE(2), (float[]){1, 2}), true);
    cg_tensor *y = cg_mul_scalar(x, 3);
    cg_tensor *d = cg_detach(y);
    assert_non_null(d);
    assert_false(d->requires_grad);
    assert_null(d->node);
    assert_ptr_equal(d->storage, y->storage);
    assert_float_equal(d->data[1], 6, 0);
    cg_scope_end();
}

// The storage outlives the tensor it was created for while a view still uses it.
static void test_view_outlives_base(void **state) {
    (void)state;
    cg_tensor *t = cg_arange(0, 6, 1); // no scope: owned by us
    cg_tensor *v = cg_reshape(t, CG_SHAPE(2, 3));
    assert_non_null(v);
    assert_int_equal(t->storage->refcount, 2);
    cg_free(t);
    assert_int_equal(v->storage->refcount, 1);
    assert_float_equal(cg_get(v, CG_SHAPE(1, 2)), 5, 0);
    cg_free(v);
}

// permute/transpose: out[i_perm] == in[i] for every element, and they copy.
static void test_permute_index_mapping(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *t = cg_randn(CG_SHAPE(2, 3, 4, 5), NULL);
    cg_tensor *p = cg_permute(t, (int[]){2, 0, 3, 1});
    assert_non_null(p);
    assert_true(p->shape[0] == 4 && p->shape[1] == 2 && p->shape[2] == 5 && p->shape[3] == 3);
    assert_ptr_not_equal(p->storage, t->storage);
    for (int64_t a = 0; a < 2; a++)
        for (int64_t b = 0; b < 3; b++)
            for (int64_t c = 0; c < 4; c++)
                for (int64_t d = 0; d < 5; d++)
                    if (cg_get(p, CG_SHAPE(c, a, d, b)) != cg_get(t, CG_SHAPE(a, b, c, d)))
                        fail_msg("permute: p[%lld,%lld,%lld,%lld] != t[%lld,%lld,%lld,%lld]",
                                 (long long)c, (long long)a, (long long)d, (long long)b,
                                 (long long)a, (long long)b, (long long)c, (long long)d);
    cg_tensor *tr = cg_transpose(t, -1, 1);
    assert_true(tr->shape[1] == 5 && tr->shape[3] == 3);
    for (int64_t b = 0; b < 3; b++)
        for (int64_t d = 0; d < 5; d++)
            assert_true(cg_get(tr, CG_SHAPE(1, d, 2, b)) == cg_get(t, CG_SHAPE(1, b, 2, d)));
    // transposing twice is the identity
    cg_assert_close(cg_transpose(tr, 1, 3), t, 0, 0, "transpose twice");
    cg_scope_end();
}

// ---- errors -----------------------------------------------------------------------------------
static void test_view_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *t = cg_zeros(CG_SHAPE(2, 3));
    assert_null(cg_reshape(t, CG_SHAPE(4, 2)));
    cg_test_expect_error(CG_ERR_SHAPE, "[4,2]");
    assert_null(cg_reshape(t, CG_SHAPE(-1, -1)));
    cg_test_expect_error(CG_ERR_SHAPE, "reshape");
    assert_null(cg_reshape(t, CG_SHAPE(-1, 4)));
    cg_test_expect_error(CG_ERR_SHAPE, "[2,3]");
    assert_null(cg_view(t, CG_SHAPE(7)));
    cg_test_expect_error(CG_ERR_SHAPE, "[7]");
    assert_null(cg_squeeze(t, 2));
    cg_test_expect_error(CG_ERR_ARG, "squeeze");
    assert_null(cg_unsqueeze(t, 4));
    cg_test_expect_error(CG_ERR_ARG, "unsqueeze");
    assert_null(cg_flatten(t, 1, 0));
    cg_test_expect_error(CG_ERR_ARG, "flatten");
    assert_null(cg_narrow(t, 1, 2, 2));
    cg_test_expect_error(CG_ERR_ARG, "narrow");
    assert_null(cg_slice(t, 1, 3));
    cg_test_expect_error(CG_ERR_ARG, NULL);
    assert_null(cg_permute(t, (int[]){0, 0}));
    cg_test_expect_error(CG_ERR_ARG, "permute");
    assert_null(cg_permute(t, (int[]){0, 2}));
    cg_test_expect_error(CG_ERR_ARG, "permute");
    assert_null(cg_transpose(t, 0, 2));
    cg_test_expect_error(CG_ERR_ARG, "transpose");
    cg_tensor *u = cg_zeros(CG_SHAPE(2, 4));
    assert_null(cg_cat(2, (cg_tensor *[]){t, u}, 0));
    cg_test_expect_error(CG_ERR_SHAPE, "cat");
    assert_null(cg_cat(2, (cg_tensor *[]){t, u}, 2));
    cg_test_expect_error(CG_ERR_ARG, "cat");
    assert_null(cg_arange(0, 1, 0));
    cg_test_expect_error(CG_ERR_ARG, "arange");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_cat_cases, cg_test_teardown),
        cmocka_unit_test_teardown(test_views_share_storage, cg_test_teardown),
        cmocka_unit_test_teardown(test_narrow_inner_copies, cg_test_teardown),
        cmocka_unit_test_teardown(test_detach, cg_test_teardown),
        cmocka_unit_test_teardown(test_view_outlives_base, cg_test_teardown),
        cmocka_unit_test_teardown(test_permute_index_mapping, cg_test_teardown),
        cmocka_unit_test_teardown(test_view_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("views", OPS, extra, 3);
}
