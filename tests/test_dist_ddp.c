// tests/test_dist_ddp.c - data-parallel training equals one process (dist/ddp.c).
//
// One program for every world size: ctest runs it as one process (the stub or MPI not
// launched) and under mpirun -np 2 and -np 4. Each rank computes the single-process
// reference itself (the whole global batch on one model), so every comparison is local.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dist_training.h"
#include "testing.h"

enum { N = CG_DT_N, GLOBAL_BATCH = CG_DT_BATCH, STEPS = 6 };

static int rank, world;

// R ranks with B/R each for STEPS steps == one process with B: parameters and loss curve.
static void test_matches_single_process(void **state) {
    (void)state;
    cg_tensor *x, *y;
    cg_dt_make_data(&x, &y);
    // The reference: one process, the whole global batch.
    cg_module *ref = cg_dt_small_cnn(7);
    cg_optimizer *ref_opt = cg_dt_optimizer(ref);
    cg_dataloader *ref_dl = cg_dataloader_new(x, y, GLOBAL_BATCH, true, 3);
    float ref_loss[STEPS];
    cg_tensor *xb, *yb;
    for (int s = 0; s < STEPS && cg_dataloader_next(ref_dl, &xb, &yb); s++)
        ref_loss[s] = cg_dt_step(ref, NULL, ref_opt, xb, yb);
    // Data parallel: other ranks start from other weights, the broadcast must fix that.
    cg_module *model = cg_dt_small_cnn(rank == 0 ? 7 : 100 + (uint64_t)rank);
    cg_ddp *ddp = cg_ddp_new(model, &(cg_ddp_options){.bucket_bytes = 512});
    assert_non_null(ddp);
    assert_true(cg_ddp_get_stats(ddp).buckets >= 3);
    cg_optimizer *opt = cg_dt_optimizer(model);
    cg_dataloader *dl = cg_dataloader_new(x, y, GLOBAL_BATCH / world, true, 3);
    assert_int_equal(cg_dataloader_set_shard(dl, rank, world, false), 0);
    double worst_loss = 0;
    for (int s = 0; s < STEPS; s++) {
        assert_true(cg_dataloader_next(dl, &xb, &yb));
        float loss = cg_dt_step(model, ddp, opt, xb, yb);
        assert_int_equal(cg_dist_allreduce_mean(&loss, 1), 0); // the global batch's loss
        worst_loss = fmax(worst_loss, fabs(loss - ref_loss[s]) / fabs(ref_loss[s]));
    }
    double worst = cg_dt_max_relative_difference(model, ref);
    if (rank == 0)
        printf("ddp %d ranks: max relative difference vs 1 process: parameters %.3g, loss %.3g\n",
               world, worst, worst_loss);
    assert_true(worst < 1e-5);
    assert_true(worst_loss < 1e-5);
    cg_ddp_stats st = cg_ddp_get_stats(ddp);
    assert_int_equal(st.steps, STEPS);
    // Every parameter gets a gradient in every backward, so every bucket starts in it.
    assert_int_equal(st.started_in_backward, (int64_t)STEPS * st.buckets);
    cg_ddp_free(ddp), cg_dataloader_free(dl), cg_dataloader_free(ref_dl);
    cg_optimizer_free(opt), cg_optimizer_free(ref_opt);
    cg_module_free(model), cg_module_free(ref);
    cg_free(x), cg_free(y);
}

// Inputs of rank r for the gradient tests: values that differ between ranks.
static cg_tensor *rank_input(int r, int rows) {
    cg_rng rng;
    cg_rng_seed(&rng, 77 + (uint64_t)r);
    return cg_randn(CG_SHAPE(rows, 5), &rng);
}

// d sum(model(x)^2) / d params, as one process computes it for rank r's input.
static void local_grads(cg_module *model, int r, int micro_batches, cg_tensor_list *params,
                        float *out) {
    cg_module_zero_grad(model);
    for (int m = 0; m < micro_batches; m++) {
        cg_scope_begin();
        cg_tensor *out_y = cg_module_forward(model, rank_input(r + 10 * m, 4));
        assert_int_equal(cg_backward(cg_sum(cg_mul(out_y, out_y), CG_ALL_DIMS, false)), 0);
        cg_scope_end();
    }
    int64_t at = 0;
    for (int i = 0; i < params->count; i++) {
        const cg_tensor *g = params->items[i].tensor->grad;
        memcpy(out + at, g->data, (size_t)g->numel * sizeof(float));
        at += g->numel;
    }
}

// The all-reduced gradient is the mean of the ranks' gradients, with and without overlap,
// and with no_sync accumulation over micro-batches.
static void run_gradient_mean(bool no_overlap, int micro_batches) {
    cg_manual_seed(5);
    cg_module *layers[] = {cg_Linear(5, 7, NULL), cg_Tanh(), cg_Linear(7, 3, NULL)};
    cg_module *model = cg_Sequential(3, layers);
    cg_tensor_list params = cg_module_named_parameters(model);
    int64_t total = cg_module_num_parameters(model);
    float expected[128] = {0}, local[128];
    assert_true(total <= 128);
    for (int r = 0; r < world; r++) {
        local_grads(model, r, micro_batches, &params, local);
        for (int64_t k = 0; k < total; k++) expected[k] += local[k] / (float)world;
    }
    cg_ddp *ddp =
        cg_ddp_new(model, &(cg_ddp_options){.bucket_bytes = 64, .no_overlap = no_overlap});
    assert_non_null(ddp);
    cg_module_zero_grad(model);
    for (int m = 0; m < micro_batches; m++) {
        cg_ddp_set_sync(ddp, m == micro_batches - 1); // no_sync for all but the last
        cg_scope_begin();
        cg_tensor *out_y = cg_ddp_forward(ddp, rank_input(rank + 10 * m, 4));
        assert_int_equal(cg_backward(cg_sum(cg_mul(out_y, out_y), CG_ALL_DIMS, false)), 0);
        cg_scope_end();
        assert_int_equal(cg_ddp_finish(ddp), 0);
    }
    int64_t at = 0;
    for (int i = 0; i < params.count; i++) {
        const cg_tensor *g = params.items[i].tensor->grad;
        for (int64_t k = 0; k < g->numel; k++, at++)
            assert_float_equal(g->data[k], expected[at], 1e-5 * (1 + fabs(expected[at])));
    }
    cg_ddp_stats st = cg_ddp_get_stats(ddp);
    assert_int_equal(st.steps, 1); // the no_sync passes did not reduce
    assert_int_equal(st.started_in_backward, no_overlap ? 0 : st.buckets);
    cg_ddp_free(ddp);
    cg_tensor_list_free(&params);
    cg_module_free(model);
}

static void test_gradient_is_mean_of_ranks(void **state) {
    (void)state;
    run_gradient_mean(false, 1);
}
static void test_gradient_mean_without_overlap(void **state) {
    (void)state;
    run_gradient_mean(true, 1);
}
static void test_no_sync_accumulates(void **state) {
    (void)state;
    run_gradient_mean(false, 3);
}

// Buckets: reverse parameter order, cut at bucket_bytes, each holds at least one tensor.
static void test_bucket_layout(void **state) {
    (void)state;
    cg_manual_seed(1);
    // Parameters in order: 0.weight 70, 0.bias 7, 2.weight 21, 2.bias 3 floats.
    cg_module *layers[] = {cg_Linear(10, 7, NULL), cg_Tanh(), cg_Linear(7, 3, NULL)};
    cg_module *model = cg_Sequential(3, layers);
    cg_ddp *ddp = cg_ddp_new(model, &(cg_ddp_options){.bucket_bytes = 100});
    assert_int_equal(cg_ddp_get_stats(ddp).buckets, 3); // {2.bias, 2.weight}, {0.bias}, {0.weight}
    assert_int_equal(cg_ddp_bucket_of(ddp, 3), 0);
    assert_int_equal(cg_ddp_bucket_of(ddp, 2), 0);
    assert_int_equal(cg_ddp_bucket_of(ddp, 1), 1);
    assert_int_equal(cg_ddp_bucket_of(ddp, 0), 2);
    assert_int_equal(cg_ddp_bucket_of(ddp, 4), -1);
    cg_ddp_free(ddp);
    ddp = cg_ddp_new(model, NULL); // 256 KiB: one bucket
    assert_int_equal(cg_ddp_get_stats(ddp).buckets, 1);
    cg_ddp_free(ddp);
    cg_module_free(model);
}

// The grad-ready hook reports every leaf once, when its gradient is final: a weight used at
// two depths is reported after its second (earlier-layer) contribution.
static int64_t ready_calls;
static float ready_sum[2];
static cg_tensor *watched[2];
static void record_ready(cg_tensor *leaf, void *ctx) {
    (void)ctx;
    for (int i = 0; i < 2; i++)
        if (leaf == watched[i]) {
            ready_calls++;
            ready_sum[i] = 0;
            for (int64_t k = 0; k < leaf->numel; k++) ready_sum[i] += leaf->grad->data[k];
        }
}
static void test_grad_ready_hook_sees_final_gradient(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *w = cg_requires_grad(cg_test_tensor(CG_SHAPE(2), (float[]){0.5f, -1.5f}), true);
    cg_tensor *b = cg_requires_grad(cg_test_tensor(CG_SHAPE(2), (float[]){0.25f, 2}), true);
    cg_tensor *x = cg_test_tensor(CG_SHAPE(2), (float[]){3, 4});
    watched[0] = w, watched[1] = b;
    cg_set_grad_ready_hook(record_ready, NULL);
    // y = w * tanh(w * x + b): w feeds the first and the last node.
    cg_tensor *y = cg_mul(w, cg_tanh(cg_add(cg_mul(w, x), b)));
    assert_int_equal(cg_backward(cg_sum(y, CG_ALL_DIMS, false)), 0);
    cg_set_grad_ready_hook(NULL, NULL);
    assert_int_equal(ready_calls, 2);
    for (int i = 0; i < 2; i++) {
        float final = 0;
        for (int64_t k = 0; k < 2; k++) final += watched[i]->grad->data[k];
        assert_float_equal(ready_sum[i], final, 0);
    }
    cg_scope_end();
}

// A model whose second branch rank 1 never uses and whose third branch nobody uses.
static cg_tensor *branchy_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *y = cg_module_forward(m->children[0], x);
    if (cg_dist_rank() != 1) y = cg_add(y, cg_module_forward(m->children[1], x));
    return y;
}
static const cg_module_class branchy_class = {.name = "Branchy", .forward = branchy_forward};

static void test_unused_parameter_neither_hangs_nor_diverges(void **state) {
    (void)state;
    cg_manual_seed(11);
    cg_module *m = cg_module_new(&branchy_class, NULL, 0);
    cg_module_add_child(m, "a", cg_Linear(5, 3, NULL));
    cg_module_add_child(m, "b", cg_Linear(5, 3, NULL));
    cg_module_add_child(m, "c", cg_Linear(5, 3, NULL));
    cg_ddp *ddp = cg_ddp_new(m, &(cg_ddp_options){.bucket_bytes = 48});
    cg_optimizer *opt = cg_sgd_for(m, &(cg_sgd_options){.lr = CG_SET(0.05)});
    cg_tensor *bw = cg_module_param(m->children[1], "weight");
    cg_tensor *cw = cg_module_param(m->children[2], "weight");
    for (int s = 0; s < 4; s++) {
        cg_scope_begin();
        cg_optimizer_zero_grad(opt);
        cg_tensor *out = cg_ddp_forward(ddp, rank_input(rank + s, 4));
        assert_int_equal(cg_backward(cg_mean(cg_mul(out, out), CG_ALL_DIMS, false)), 0);
        assert_int_equal(cg_ddp_finish(ddp), 0);
        assert_non_null(bw->grad); // some rank used b: everyone has its mean gradient
        assert_null(cw->grad);     // nobody used c: no gradient, as in one process
        assert_int_equal(cg_optimizer_step(opt), 0);
        cg_scope_end();
    }
    // Still identical on every rank: compare with rank 0's copy.
    cg_tensor_list sd = cg_module_state_dict(m);
    for (int i = 0; i < sd.count; i++) {
        const cg_tensor *t = sd.items[i].tensor;
        float copy[64];
        memcpy(copy, t->data, (size_t)t->numel * sizeof(float));
        assert_int_equal(cg_dist_broadcast(copy, t->numel), 0);
        assert_memory_equal(copy, t->data, (size_t)t->numel * sizeof(float));
    }
    cg_tensor_list_free(&sd);
    cg_ddp_free(ddp), cg_optimizer_free(opt), cg_module_free(m);
}

// BatchNorm running statistics follow rank 0 (DDP's broadcast_buffers).
static void test_batchnorm_buffers_from_rank0(void **state) {
    (void)state;
    cg_manual_seed(3);
    cg_module *layers[] = {cg_Conv2d(1, 2, 1, NULL), cg_BatchNorm2d(2, NULL)};
    cg_module *m = cg_Sequential(2, layers);
    cg_ddp *ddp = cg_ddp_new(m, NULL);
    cg_tensor *mean = cg_module_buffer(m->children[1], "running_mean");
    cg_scope_begin();
    cg_rng rng;
    cg_rng_seed(&rng, 40 + (uint64_t)rank); // different data on every rank
    cg_ddp_forward(ddp, cg_randn(CG_SHAPE(4, 1, 3, 3), &rng));
    cg_rng_seed(&rng, 99); // the same data everywhere
    cg_ddp_forward(ddp, cg_randn(CG_SHAPE(4, 1, 3, 3), &rng));
    cg_scope_end();
    float copy[2] = {mean->data[0], mean->data[1]};
    assert_int_equal(cg_dist_broadcast(copy, 2), 0);
    assert_memory_equal(copy, mean->data, sizeof copy);
    cg_ddp_free(ddp), cg_module_free(m);
}

// A checkpoint from the job holds every rank's generator; each rank gets its own back.
static void test_checkpoint_keeps_each_rank_generator(void **state) {
    (void)state;
    cg_module *model = cg_dt_small_cnn(7);
    cg_manual_seed(500 + (uint64_t)rank);
    cg_rng before = *cg_global_rng();
    char path[512];
    snprintf(path, sizeof path, "%s/dist_%d.ckpt", CG_TEST_TMP_DIR, world);
    cg_checkpoint_meta meta = {.epoch = 1, .global_step = 6, .lr = 0.1, .has_loader = true};
    meta.loader.sample = 24;
    assert_int_equal(cg_dist_checkpoint_save(path, model, NULL, &meta), 0);
    cg_manual_seed(1); // forget
    cg_checkpoint_meta got;
    assert_int_equal(cg_dist_checkpoint_load(path, model, NULL, &got), 0);
    assert_int_equal(got.n_rank_rngs, world);
    assert_int_equal(got.loader.sample, 24);
    assert_memory_equal(cg_global_rng(), &before, sizeof before);
    assert_int_equal(cg_dist_barrier(), 0); // nobody removes the file while others read it
    cg_module_free(model);
}

int main(int argc, char **argv) {
    if (cg_dist_init(&argc, &argv)) return 1;
    rank = cg_dist_rank(), world = cg_dist_world_size();
    assert_true(GLOBAL_BATCH % world == 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_ready_hook_sees_final_gradient),
        cmocka_unit_test(test_bucket_layout),
        cmocka_unit_test(test_gradient_is_mean_of_ranks),
        cmocka_unit_test(test_gradient_mean_without_overlap),
        cmocka_unit_test(test_no_sync_accumulates),
        cmocka_unit_test(test_unused_parameter_neither_hangs_nor_diverges),
        cmocka_unit_test(test_batchnorm_buffers_from_rank0),
        cmocka_unit_test(test_matches_single_process),
        cmocka_unit_test(test_checkpoint_keeps_each_rank_generator),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cg_dist_finalize();
    return failed;
}
