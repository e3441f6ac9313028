// tests/test_onnx_conv.c - cgrad's conv2d and conv_transpose2d on ONNX's own node tests of
// Conv and ConvTranspose (libonnx-testdata's inputs and expected outputs, turned into
// tests/fixtures/onnx_conv.txt by gen_onnx_conv.py): the same numbers another framework's
// test suite requires, with ONNX's padding rules (auto_pad, output_shape, asymmetric pads)
// written as cgrad's options plus an explicit cg_pad or a crop of the output.
#include "testing.h"

static void params(const cg_fixture_case *c, const char *key, int out[2]) {
    double v[2] = {0, 0};
    assert_int_equal(cg_fixture_params(c, key, v, 2), 2);
    out[0] = (int)v[0], out[1] = (int)v[1];
}

static cg_tensor *run_case(const cg_fixture_case *c) {
    cg_conv_options o = {.groups = (int)cg_fixture_param(c, "group", 1)};
    params(c, "stride", o.stride_hw);
    params(c, "dilation", o.dilation_hw);
    params(c, "padding", o.padding_hw);
    params(c, "output_padding", o.output_padding_hw);
    cg_tensor *x = cg_fixture_tensor(c, "x"), *w = cg_fixture_tensor(c, "w");
    cg_tensor *b = cg_fixture_has(c, "b") ? cg_fixture_tensor(c, "b") : NULL;
    int before[2], after[2];
    if (cg_fixture_param(c, "transposed", 0) == 0) { // extra zero rows first, then conv2d
        params(c, "pad_before", before);
        params(c, "pad_after", after);
        x = cg_pad(x, 4, (const int[]){before[1], after[1], before[0], after[0]}, CG_PAD_ZEROS, 0);
        return cg_conv2d(x, w, b, &o);
    }
    cg_tensor *y = cg_conv_transpose2d(x, w, b, &o); // then the rows ONNX's pads remove
    params(c, "crop_before", before);
    params(c, "crop_after", after);
    for (int d = 0; d < 2 && y; d++)
        y = cg_narrow(y, 2 + d, before[d], y->shape[2 + d] - before[d] - after[d]);
    return y;
}

static void test_onnx_node_tests(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture("onnx_conv.txt");
    assert_true(cg_fixture_count(fx) >= 10);
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        cg_scope_begin();
        cg_assert_close(run_case(c), cg_fixture_tensor(c, "out"), 1e-5, 1e-5,
                        cg_fixture_case_name(c));
        cg_scope_end();
    }
    cg_fixture_free(fx);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_onnx_node_tests)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
