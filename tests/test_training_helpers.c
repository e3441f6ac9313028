// tests/test_training_helpers.c - io/training.h: cg_evaluate's loss and accuracy against a
// direct computation (and its restoring of train and grad mode), and the progress line: one
// line per loop when the output is not a terminal, '\r' redraws in live mode, the ETA.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// The logits are the inputs; it checks that evaluation runs in eval mode without a graph.
static cg_tensor *identity_forward(cg_module *m, cg_tensor *x) {
    assert_false(m->training);
    assert_false(cg_is_grad_enabled());
    return x;
}
static const cg_module_class IDENTITY = {.name = "Identity", .forward = identity_forward};

// Logits for 5 samples of 3 classes; labels hit 3 of them (sample 3 ties: first max wins).
static const float LOGITS[] = {2, 0, 1, 0, 3, 1, 1, 1, 5, 4, 4, 0, 0, 1, 0};
static const float LABELS[] = {0, 1, 0, 1, 1};

static void test_evaluate(void **state) {
    (void)state;
    cg_tensor *x = cg_test_tensor(CG_SHAPE(5, 3), LOGITS), *y = cg_test_tensor(CG_SHAPE(5), LABELS);
    cg_unscope(x), cg_unscope(y);
    cg_module *model = cg_module_new(&IDENTITY, NULL, 0);
    cg_dataloader *dl = cg_dataloader_new(x, y, 2, false, 0); // batches of 2, 2, 1
    assert_non_null(dl);
    cg_eval_result r;
    assert_int_equal(cg_evaluate(model, dl, &r), 0);
    assert_int_equal(r.count, 5);
    assert_float_equal(r.accuracy, 3.0 / 5, 1e-12); // samples 0, 1 (argmax 1), 3 (tie -> 0)
    cg_tensor *expected = cg_cross_entropy(x, y, NULL);
    assert_float_equal(r.loss, cg_item(expected), 1e-6);
    cg_free(expected);
    assert_true(model->training); // restored
    assert_true(cg_is_grad_enabled());
    assert_float_equal(cg_evaluate_accuracy(model, dl), 0.6, 1e-12); // a second pass
    assert_true(cg_evaluate(NULL, dl, &r) == -1);
    cg_test_expect_error(CG_ERR_ARG, "evaluate: model, loader or result is NULL");
    cg_dataloader_free(dl);
    cg_module_free(model);
    cg_free(x), cg_free(y);
}

static char *read_all(FILE *f) {
    static char buf[4096];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    return buf;
}

static void test_progress_lines_for_files(void **state) {
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    cg_progress p;
    cg_progress_begin(&p, f, 50, "epoch %d/%d", 1, 3); // a file: LINES mode
    assert_int_equal(p.mode, CG_PROGRESS_LINES);
    for (int i = 0; i < 50; i++) cg_progress_step(&p, 1, "loss 0.5");
    cg_progress_end(&p, "loss 0.25");
    const char *text = read_all(f);
    assert_null(strchr(text, '\r'));
    assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); // exactly one line
    assert_non_null(strstr(text, "epoch 1/3 [========================] 100%  loss 0.25  in 0:0"));
    fclose(f);
}

static void test_progress_live(void **state) {
    (void)state;
    FILE *f = tmpfile();
    cg_progress p;
    cg_progress_begin_mode(&p, f, CG_PROGRESS_LIVE, 4, "train");
    p.start -= 30; // as if 30 s had passed: 2 of 4 done -> 30 s to go
    p.last_draw -= 1;
    cg_progress_step(&p, 2, "loss 1");
    const char *text = read_all(f);
    assert_true(text[0] == '\r');
    assert_non_null(strstr(text, "train [============            ]  50%  loss 1  ETA 0:30"));
    cg_progress_end(&p, NULL);
    text = read_all(f);
    assert_non_null(strstr(text, "\rtrain [========================] 100%  in 0:30"));
    assert_true(text[strlen(text) - 1] == '\n');
    fclose(f);
}

// The DOT export names a model's parameters by their path; their own names come back.
static cg_tensor *scale_forward(cg_module *m, cg_tensor *x) {
    return cg_mul(x, m->params[0]);
}
static const cg_module_class SCALE = {.name = "Scale", .forward = scale_forward};
static const cg_module_class BOX = {.name = "Box"};

static void test_dot_module_paths(void **state) {
    (void)state;
    cg_module *root = cg_module_new(&BOX, NULL, 0);
    cg_module *features = cg_module_add_child(root, "features", cg_module_new(&BOX, NULL, 0));
    cg_module *layer = cg_module_add_child(features, "3", cg_module_new(&SCALE, NULL, 0));
    cg_tensor *w = cg_module_add_param(layer, "weight", cg_full(CG_SHAPE(2), 3));
    cg_requires_grad(w, true);
    cg_scope_begin();
    cg_tensor *loss = cg_sum(cg_module_forward(layer, cg_ones(CG_SHAPE(2))), CG_ALL_DIMS, false);
    FILE *f = tmpfile();
    assert_int_equal(cg_module_graph_to_dot(root, loss, f), 0);
    const char *text = read_all(f);
    assert_non_null(strstr(text, "label=\"features.3.weight\\n[2]\""));
    assert_string_equal(w->name, "weight");
    fclose(f);
    assert_int_equal(cg_module_save_dot(root, loss, CG_TEST_TMP_DIR "/no/such/dir/g.dot"), -1);
    cg_test_expect_error(CG_ERR_IO, "no/such/dir");
    assert_int_equal(cg_module_save_dot(NULL, loss, "x.dot"), -1);
    cg_test_expect_error(CG_ERR_ARG, "module_save_dot: model is NULL");
    cg_scope_end();
    cg_module_free(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        CG_TEST_NO_LEAKS(test_evaluate),
        CG_TEST_NO_LEAKS(test_progress_lines_for_files),
        CG_TEST_NO_LEAKS(test_progress_live),
        CG_TEST_NO_LEAKS(test_dot_module_paths),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("training_helpers", tests, NULL, NULL);
}
