// tests/test_engine.c - how the backward engine hands gradients on and reports failure.
#include "testing.h"

#include "tensor/tensor_internal.h"

// y = 2x whose backward reports an error instead of producing a gradient: stands for any
// backward that fails (an allocation, a kernel's status).
static void failing_backward(cg_node *n, const cg_tensor *grad_out) {
    (void)n;
    cg_error(CG_ERR_MEMORY, "failing_op: could not allocate the gradient of shape %s",
             cg_tensor_shape_str(grad_out));
}
static const cg_op failing_op = {"failing_op", failing_backward, "nothing"};

static cg_tensor *failing(cg_tensor *x) {
    cg_tensor *y = cg_mul_scalar(x, 2.0f);
    cg_tensor_drop_node(y);
    cg_record(y, &failing_op, 1, &x);
    return y;
}

static void backward_fails_when_an_op_backward_reports_an_error(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_tensor *x = cg_requires_grad(cg_ones(CG_SHAPE(3)), true); // a leaf: outside the scope
    cg_scope_begin();
    cg_tensor *loss = cg_sum(failing(cg_mul_scalar(x, 3.0f)), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), -1);
    cg_test_expect_error(CG_ERR_MEMORY, "failing_op: could not allocate the gradient of shape [3]");
    // The ops before the failing one never ran: x got no gradient.
    assert_null(x->grad);
    cg_scope_end();
    cg_free(x);
}

static void backward_succeeds_when_errors_were_reported_before_it(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_error(CG_ERR_ARG, "earlier: an unrelated failure");
    cg_tensor *x = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    cg_scope_begin();
    int status = cg_backward(cg_sum(cg_mul_scalar(x, 3.0f), CG_ALL_DIMS, false));
    assert_int_equal(status, 0);
    cg_assert_close(x->grad, cg_full(CG_SHAPE(3), 3.0f), 0, 0, "x.grad");
    cg_scope_end();
    cg_free(x);
    cg_clear_error();
}

// The first gradient a leaf gets is the backward's own temporary, not a copy of it; the
// second is added into it. Values are what they always were.
static void first_gradient_is_adopted_then_accumulated(void **state) {
    (void)state;
    cg_tensor *w = cg_requires_grad(cg_from_data(CG_SHAPE(2, 2), (float[]){1, 2, 3, 4}), true);
    cg_scope_begin();
    cg_tensor *x = cg_from_data(CG_SHAPE(1, 2), (float[]){5, 6});
    cg_tensor *y = cg_matmul(x, w); // (1, 2)
    assert_int_equal(cg_backward(cg_sum(y, CG_ALL_DIMS, false)), 0);
    assert_non_null(w->grad);
    assert_null(w->grad->scope); // owned by w, not by any scope
    cg_assert_close(w->grad, cg_from_data(CG_SHAPE(2, 2), (float[]){5, 5, 6, 6}), 0, 0, "dw");
    assert_int_equal(cg_backward(cg_sum(cg_matmul(x, w), CG_ALL_DIMS, false)), 0);
    cg_assert_close(w->grad, cg_from_data(CG_SHAPE(2, 2), (float[]){10, 10, 12, 12}), 0, 0,
                    "dw twice");
    cg_scope_end();
    cg_free(w);
}

// A gradient that is a view of something else (here the incoming gradient itself, which
// add's backward passes on) is copied, never adopted: a and b get separate buffers.
static void shared_gradients_are_copied(void **state) {
    (void)state;
    cg_tensor *a = cg_requires_grad(cg_ones(CG_SHAPE(2)), true);
    cg_tensor *b = cg_requires_grad(cg_ones(CG_SHAPE(2)), true);
    cg_scope_begin();
    assert_int_equal(cg_backward(cg_sum(cg_add(a, b), CG_ALL_DIMS, false)), 0);
    assert_ptr_not_equal(a->grad->data, b->grad->data);
    a->grad->data[0] = 7.0f;
    assert_true(b->grad->data[0] == 1.0f);
    cg_scope_end();
    cg_free(a);
    cg_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backward_fails_when_an_op_backward_reports_an_error),
        cmocka_unit_test(backward_succeeds_when_errors_were_reported_before_it),
        cmocka_unit_test(first_gradient_is_adopted_then_accumulated),
        cmocka_unit_test(shared_gradients_are_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
