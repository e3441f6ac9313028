// tests/test_eval_memory.c - an evaluation pass frees each activation once the next layer
// has read it (cg_free_consumed, autograd/consumed.c; cg_Sequential and cg_Residual use it).
//
// Measured with the allocator's counters (peak_live_bytes after cg_alloc_reset_peak), not
// RSS: a deep no-grad Sequential holds about two activations at once where the same model
// recording a graph holds all of them; the outputs are bitwise those of the pass that frees
// nothing; training (graph recorded) frees nothing early and gives bitwise the same
// gradients as running the children by hand; and cg_free_consumed refuses every tensor
// someone else may still use (the container's input, the result, a node's saved tensor,
// tensors outside the innermost scope, tensors in a graph). In training, backward frees
// the container's intermediates' gradients once used; dropout keeps no mask.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define BATCH    32
#define FEATURES 256
#define LAYERS   12
// One activation of the MLP below, in bytes.
#define ACTIVATION ((int64_t)BATCH * FEATURES * (int64_t)sizeof(float))

// LAYERS x (Linear, Tanh): 2 * LAYERS activations of the same size, none fused.
static cg_module *deep_mlp(void) {
    cg_module *layers[2 * LAYERS];
    for (int i = 0; i < LAYERS; i++) {
        layers[2 * i] = cg_Linear(FEATURES, FEATURES, NULL);
        layers[2 * i + 1] = cg_Tanh();
    }
    return cg_Sequential(2 * LAYERS, layers);
}

// Every kind of child a container may meet: fused pairs (Conv2d + ReLU, ReLU + MaxPool2d),
// children that return their input as is (Identity, Dropout in eval), views that share
// their input's storage (Flatten, Unflatten), a Residual and a nested Sequential.
static cg_module *mixed_cnn(void) {
    cg_module *block = cg_Sequential(
        2, (cg_module *[]){cg_Conv2d(8, 8, 3, &(cg_conv_options){.padding = 1}), cg_Tanh()});
    return cg_Sequential(
        13, (cg_module *[]){cg_Identity(), cg_Conv2d(1, 8, 3, &(cg_conv_options){.padding = 1}),
                            cg_ReLU(), cg_Dropout(NULL), cg_Identity(),
                            cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}), cg_Residual(block),
                            cg_Conv2d(8, 8, 3, &(cg_conv_options){.padding = 1}), cg_ReLU(),
                            cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}), cg_Flatten(1, -1),
                            cg_Unflatten(1, CG_SHAPE(8, 49)), cg_Flatten(1, -1)});
}

// The model's forward in eval mode, grad mode `grad`: the output (kept out of the scope)
// and, in *extra, the most bytes live during the forward beyond what lived before it.
static cg_tensor *forward_peak(cg_module *m, cg_tensor *x, bool grad, int64_t *extra) {
    bool prev = cg_set_grad_enabled(grad);
    cg_scope_begin();
    cg_alloc_reset_peak();
    int64_t before = cg_alloc_get_stats().live_bytes;
    cg_tensor *y = cg_module_forward(m, x);
    *extra = cg_alloc_get_stats().peak_live_bytes - before;
    assert_non_null(y);
    y = cg_keep(y);
    cg_scope_end();
    cg_set_grad_enabled(prev);
    return y;
}

static void assert_bitwise_equal(const cg_tensor *a, const cg_tensor *b, const char *what) {
    assert_true(cg_same_shape(a, b));
    if (memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)) != 0)
        fail_msg("%s: outputs differ", what);
}

// No grad: two activations live at once (a child's input and output) plus tensor headers;
// with a graph recorded every one of the 2 * LAYERS outputs stays.
static void test_sequential_eval_holds_two_activations(void **state) {
    (void)state;
    cg_manual_seed(1);
    cg_module *m = deep_mlp();
    cg_module_eval(m);
    cg_tensor *x = cg_randn(CG_SHAPE(BATCH, FEATURES), NULL);
    int64_t no_grad, graph;
    // One thread: the GEMM's per-thread packing buffers (made on a thread's first GEMM, then
    // kept) are all made by the warm-up, whichever thread a part would have run on.
    int threads = cg_num_threads();
    cg_set_num_threads(1);
    cg_free(forward_peak(m, x, false, &no_grad)); // warm-up
    cg_tensor *y = forward_peak(m, x, false, &no_grad);
    cg_tensor *reference = forward_peak(m, x, true, &graph);
    if (no_grad > 2 * ACTIVATION + 4096)
        fail_msg("no-grad forward held %lld bytes, more than 2 activations (%lld) and headers",
                 (long long)no_grad, (long long)(2 * ACTIVATION));
    assert_true(graph >= 2 * LAYERS * ACTIVATION); // the graph keeps all (the test can fail)
    cg_set_num_threads(threads);
    assert_bitwise_equal(y, reference, "no-grad vs graph");
    cg_free(y);
    cg_free(reference);
    cg_free(x);
    cg_module_free(m);
}

// Frozen parameters with grad mode on: no graph either, so the same freeing applies.
static void test_frozen_model_frees_too(void **state) {
    (void)state;
    cg_manual_seed(2);
    cg_module *m = deep_mlp();
    cg_tensor_list params = cg_module_named_parameters(m);
    for (int i = 0; i < params.count; i++) cg_requires_grad(params.items[i].tensor, false);
    cg_tensor_list_free(&params);
    cg_tensor *x = cg_randn(CG_SHAPE(BATCH, FEATURES), NULL);
    int64_t extra;
    int threads = cg_num_threads();
    cg_set_num_threads(1); // as above: the packing buffers exist after the warm-up
    cg_free(forward_peak(m, x, true, &extra));
    cg_free(forward_peak(m, x, true, &extra));
    cg_set_num_threads(threads);
    if (extra > 3 * ACTIVATION)
        fail_msg("frozen forward held %lld bytes, more than 2 activations (%lld) and headers",
                 (long long)extra, (long long)(3 * ACTIVATION));
    cg_free(x);
    cg_module_free(m);
}

// Identity, Dropout, views, fused pairs, Residual, nested Sequential: the no-grad output is
// bitwise the graph-recording one, and every tensor is freed exactly once (ASan; live bytes
// back to where they were after the scope).
static void test_mixed_children_same_output(void **state) {
    (void)state;
    cg_manual_seed(3);
    cg_module *m = mixed_cnn();
    assert_non_null(m);
    cg_module_eval(m);
    cg_tensor *x = cg_randn(CG_SHAPE(4, 1, 28, 28), NULL);
    int64_t before = cg_alloc_get_stats().live_bytes, no_grad, graph;
    cg_tensor *y = forward_peak(m, x, false, &no_grad);
    cg_tensor *reference = forward_peak(m, x, true, &graph);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[1], 8 * 7 * 7);
    assert_bitwise_equal(y, reference, "mixed no-grad vs graph");
    assert_true(no_grad < graph);
    int64_t outputs = y->numel * 2 * (int64_t)sizeof(float);
    cg_free(y);
    cg_free(reference);
    assert_true(cg_alloc_get_stats().live_bytes <= before + outputs);
    cg_free(x);
    cg_module_free(m);
}

// The children of m as cg_Sequential ran them before it freed anything: the same fused pairs
// (a pair runs unless the next child pairs with the one after it).
static cg_tensor *forward_by_hand(cg_module *m, cg_tensor *x) {
    cg_module **c = m->children;
    for (int i = 0, n = m->n_children; i < n; i++)
        if (i + 1 < n && cg_module_pairs(c[i], c[i + 1]) &&
            !(i + 2 < n && cg_module_pairs(c[i + 1], c[i + 2])))
            x = cg_module_forward_pair(c[i], c[i + 1], x), i++;
        else
            x = cg_module_forward(c[i], x);
    return x;
}

// The small CNN (bench_train's): Conv2d, then ReLU + MaxPool2d as one op, twice, Flatten,
// Linear. Each convolution's output is read by nothing in backward (the pooling scatters
// through its argmax, conv2d's backward reads its input), so Sequential frees its values.
static cg_module *small_cnn(void) {
    cg_conv_options pad = {.padding = 1};
    cg_pool_options two = {.kernel_size = 2};
    return cg_Sequential(8,
                         (cg_module *[]){cg_Conv2d(1, 8, 3, &pad), cg_ReLU(), cg_MaxPool2d(&two),
                                         cg_Conv2d(8, 16, 3, &pad), cg_ReLU(), cg_MaxPool2d(&two),
                                         cg_Flatten(1, -1), cg_Linear(16 * 7 * 7, 10, NULL)});
}

// Linear, ReLU, Linear, ReLU, Linear: ReLU's backward reads its output, Linear's its input,
// so each Linear's output is freed once ReLU has consumed it.
static cg_module *relu_mlp(void) {
    return cg_Sequential(5, (cg_module *[]){cg_Linear(784, 256, NULL), cg_ReLU(),
                                            cg_Linear(256, 256, NULL), cg_ReLU(),
                                            cg_Linear(256, 10, NULL)});
}

// One training step of m on x through Sequential (run 0) or the children by hand (run 1):
// the bytes held after the forward, and copies of every parameter's and x's gradient.
static int64_t train_step(cg_module *m, cg_tensor *x, int run, cg_tensor **grads, int n_params,
                          const cg_tensor_list *params) {
    cg_module_zero_grad(m);
    cg_zero_grad(x);
    cg_manual_seed(5); // the same dropout mask in both runs
    cg_scope_begin();
    int64_t before = cg_alloc_get_stats().live_bytes;
    cg_tensor *h = run == 0 ? cg_module_forward(m, x) : forward_by_hand(m, x);
    int64_t held = cg_alloc_get_stats().live_bytes - before;
    assert_int_equal(cg_backward(cg_sum(cg_mul(h, h), CG_ALL_DIMS, false)), 0);
    cg_scope_end();
    for (int i = 0; i < n_params; i++)
        grads[i] = cg_test_copy_leaf(params->items[i].tensor->grad, false);
    grads[n_params] = cg_test_copy_leaf(x->grad, false);
    return held;
}

// Training: the gradients through cg_Sequential are bitwise those of running its children
// by hand (which frees nothing early), for every parameter and the input, on three models;
// the small CNN's and the MLP's forwards hold the values no backward reads no longer.
static void test_training_gradients_unchanged(void **state) {
    (void)state;
    // One thread: a worker's first part grows its persistent GEMM buffer, which would be
    // counted in whichever run it happened to fall (seen under load: 2 KB more through
    // Sequential), and this test is about which tensors are held.
    int threads = cg_num_threads();
    cg_set_num_threads(1);
    for (int model = 0; model < 3; model++) {
        cg_manual_seed(4);
        cg_module *m = model == 0 ? mixed_cnn() : model == 1 ? small_cnn() : relu_mlp();
        cg_tensor *x = cg_requires_grad(model < 2 ? cg_randn(CG_SHAPE(2, 1, 28, 28), NULL)
                                                  : cg_randn(CG_SHAPE(2, 784), NULL),
                                        true);
        cg_tensor_list params = cg_module_named_parameters(m);
        cg_tensor *grads[2][16];
        int64_t held[2];
        assert_true(params.count < 16);
        for (int run = 0; run < 2; run++) {
            train_step(m, x, run, grads[run], params.count, &params); // parameter grads exist
            for (int i = 0; i <= params.count; i++) cg_free(grads[run][i]);
            held[run] = train_step(m, x, run, grads[run], params.count, &params);
        }
        for (int i = 0; i <= params.count; i++) {
            assert_bitwise_equal(grads[0][i], grads[1][i], "gradient");
            cg_free(grads[0][i]);
            cg_free(grads[1][i]);
        }
        // At least the first convolution's output, or both hidden Linear outputs, fewer.
        int64_t fewer = model == 1 ? 2 * 8 * 28 * 28 : 2 * 256 * 2;
        if (model > 0 && held[1] - held[0] < fewer * (int64_t)sizeof(float))
            fail_msg("model %d's forward held %lld bytes through Sequential, %lld by hand", model,
                     (long long)held[0], (long long)held[1]);
        cg_tensor_list_free(&params);
        cg_free(x);
        cg_module_free(m);
    }
    cg_set_num_threads(threads);
}

// Training keeps no dropout mask: the node holds the generator's state and backward draws
// the same mask again. dx is the gradient times the mask the forward applied (read off
// y = x * mask, x without zeros), and the generator ends where cg_rand of that size leaves it.
static void test_dropout_keeps_no_mask(void **state) {
    (void)state;
    cg_manual_seed(6);
    const float p = 0.3f, scale = 1.0f / (1.0f - p);
    cg_scope_begin(); // frees everything below, cg_test_distinct's temporaries too
    cg_tensor *x = cg_test_distinct(CG_SHAPE(7, 9));
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += x->data[i] >= 0 ? 0.25f : -0.25f;
    cg_tensor *w = cg_randn(CG_SHAPE(7, 9), NULL);
    cg_rng expected_rng = *cg_global_rng();
    cg_free(cg_rand(CG_SHAPE(7, 9), &expected_rng)); // as many draws as the mask takes
    cg_tensor *y = cg_dropout(x, p, true);
    assert_non_null(y->node);
    assert_memory_equal(cg_global_rng(), &expected_rng, sizeof expected_rng);
    for (int k = 0; k < CG_MAX_SAVED; k++) assert_null(y->node->saved[k]);
    int kept = 0;
    for (int64_t i = 0; i < x->numel; i++) {
        bool keep = y->data[i] != 0;
        kept += keep;
        assert_true(y->data[i] == (keep ? x->data[i] * scale : 0.0f));
    }
    assert_true(kept > 0 && kept < x->numel); // both kinds occur
    assert_int_equal(cg_backward(cg_sum(cg_mul(y, w), CG_ALL_DIMS, false)), 0);
    for (int64_t i = 0; i < x->numel; i++)
        assert_true(x->grad->data[i] == w->data[i] * (y->data[i] != 0 ? scale : 0.0f));
    cg_scope_end();
}

// Training through cg_Sequential holds no gradient of its intermediates after backward
// (each was freed once its node had used it), where the same children run by hand keep
// theirs: the difference is at least the largest intermediate (the first conv's output).
static void test_backward_frees_internal_grads(void **state) {
    (void)state;
    cg_manual_seed(7);
    cg_module *m = mixed_cnn();
    cg_module_eval(m); // no dropout: both runs identical
    cg_tensor *x = cg_randn(CG_SHAPE(4, 1, 28, 28), NULL);
    int64_t held[2];
    for (int run = 0; run < 2; run++) {
        for (int warm = 0; warm < 2; warm++) { // the second time, parameter grads exist
            cg_scope_begin();
            int64_t before = cg_alloc_get_stats().live_bytes;
            cg_tensor *h = run == 0 ? cg_module_forward(m, x) : forward_by_hand(m, x);
            assert_int_equal(cg_backward(cg_sum(cg_mul(h, h), CG_ALL_DIMS, false)), 0);
            held[run] = cg_alloc_get_stats().live_bytes - before;
            cg_scope_end();
        }
    }
    int64_t conv_output = 4 * 8 * 28 * 28 * (int64_t)sizeof(float);
    if (held[1] - held[0] < conv_output)
        fail_msg("after backward Sequential holds %lld bytes, by hand %lld: expected at least "
                 "%lld fewer",
                 (long long)held[0], (long long)held[1], (long long)conv_output);
    cg_free(x);
    cg_module_free(m);
}

// cg_free_consumed frees only what nobody else can reach.
static void test_free_consumed_rules(void **state) {
    (void)state;
    cg_tensor *x = cg_ones(CG_SHAPE(4));
    cg_tensor *w = cg_requires_grad(cg_ones(CG_SHAPE(4)), true);
    bool prev = cg_set_grad_enabled(false);
    cg_scope_begin();
    cg_tensor *h = cg_mul_scalar(x, 2), *v = cg_reshape(h, CG_SHAPE(2, 2));
    assert_false(cg_free_consumed(h, h, v));    // keep
    assert_false(cg_free_consumed(v, NULL, v)); // the result itself
    assert_false(cg_free_consumed(x, NULL, v)); // not in the scope: the caller's
    assert_false(cg_free_consumed(NULL, NULL, v));
    assert_true(cg_free_consumed(h, x, v)); // the view keeps the storage
    assert_true(v->data[0] == 2 && v->data[3] == 2);
    cg_scope_begin(); // an inner scope: the outer scope's tensors are not its temporaries
    cg_tensor *inner = cg_add_scalar(v, 1);
    assert_false(cg_free_consumed(v, NULL, inner));
    cg_scope_end();
    cg_set_grad_enabled(true);
    cg_tensor *g = cg_mul(w, x), *r = cg_mul_scalar(g, 3);
    assert_false(cg_free_consumed(g, x, r)); // in a graph: r's node reads g
    cg_tensor *plain = cg_mul_scalar(x, 3), *r2 = cg_mul(plain, w);
    assert_false(cg_free_consumed(plain, x, r2)); // r2's node reads plain
    assert_int_equal(cg_backward(cg_sum(r2, CG_ALL_DIMS, false)), 0);
    assert_true(w->grad->data[0] == 3);
    cg_scope_end(); // frees the rest exactly once (ASan)
    cg_set_grad_enabled(prev);
    cg_free(w);
    cg_free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sequential_eval_holds_two_activations, cg_test_teardown),
        cmocka_unit_test_teardown(test_frozen_model_frees_too, cg_test_teardown),
        cmocka_unit_test_teardown(test_mixed_children_same_output, cg_test_teardown),
        cmocka_unit_test_teardown(test_training_gradients_unchanged, cg_test_teardown),
        cmocka_unit_test_teardown(test_dropout_keeps_no_mask, cg_test_teardown),
        cmocka_unit_test_teardown(test_backward_frees_internal_grads, cg_test_teardown),
        cmocka_unit_test_teardown(test_free_consumed_rules, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("eval_memory", tests, NULL, NULL);
}
