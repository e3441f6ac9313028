// tests/test_dist_resume.c - a data-parallel run stopped mid-epoch resumes from its
// checkpoint on another number of ranks and ends where one uninterrupted process ends.
//
//   test_dist_resume              save and resume in one process (world size 1)
//   mpirun -np 2 ... save         train SAVE_AT steps, write the checkpoint (rank 0)
//   mpirun -np 4 ... load         resume from it and train to STEPS
// Each phase compares with the single-process run of the same global batch, computed here.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dist_training.h"
#include "testing.h"

enum { SAVE_AT = 4, STEPS = 9 }; // 6 steps per epoch: saved mid-epoch, resumed across one

static const char *phase = "both";
static int rank, world;
static char path[512];

// The global batch's next step, starting the next epoch when one ends.
static bool next_batch(cg_dataloader *dl, cg_tensor **x, cg_tensor **y) {
    return cg_dataloader_next(dl, x, y) || cg_dataloader_next(dl, x, y);
}

// One process, the whole global batch: losses of every step and the model after `steps`.
static cg_module *reference(int steps, float *losses, cg_tensor *x, cg_tensor *y) {
    cg_module *ref = cg_dt_small_cnn(7);
    cg_optimizer *opt = cg_dt_optimizer(ref);
    cg_dataloader *dl = cg_dataloader_new(x, y, CG_DT_BATCH, true, 3);
    cg_tensor *xb, *yb;
    for (int s = 0; s < steps && next_batch(dl, &xb, &yb); s++)
        losses[s] = cg_dt_step(ref, NULL, opt, xb, yb);
    cg_dataloader_free(dl), cg_optimizer_free(opt);
    return ref;
}

// Train steps [from, to) data-parallel; compare losses and the final parameters.
static void train_and_compare(cg_module *model, cg_optimizer *opt, cg_dataloader *dl, int from,
                              int to, cg_tensor *x, cg_tensor *y) {
    float ref_loss[STEPS];
    cg_module *ref = reference(to, ref_loss, x, y);
    cg_ddp *ddp = cg_ddp_new(model, NULL);
    assert_non_null(ddp);
    cg_tensor *xb, *yb;
    for (int s = from; s < to; s++) {
        assert_true(next_batch(dl, &xb, &yb));
        float loss = cg_dt_step(model, ddp, opt, xb, yb);
        assert_int_equal(cg_dist_allreduce_mean(&loss, 1), 0);
        assert_true(fabs(loss - ref_loss[s]) <= 1e-5 * fabs(ref_loss[s]));
    }
    double worst = cg_dt_max_relative_difference(model, ref);
    if (rank == 0)
        printf("%s on %d ranks, steps %d..%d: max relative difference vs 1 process %.3g\n", phase,
               world, from, to, worst);
    assert_true(worst < 1e-5);
    cg_ddp_free(ddp), cg_module_free(ref);
}

static cg_dataloader *sharded_loader(cg_tensor *x, cg_tensor *y) {
    cg_dataloader *dl = cg_dataloader_new(x, y, CG_DT_BATCH / world, true, 3);
    assert_int_equal(cg_dataloader_set_shard(dl, rank, world, false), 0);
    return dl;
}

static void save_phase(cg_tensor *x, cg_tensor *y) {
    cg_module *model = cg_dt_small_cnn(7);
    cg_optimizer *opt = cg_dt_optimizer(model);
    cg_dataloader *dl = sharded_loader(x, y);
    train_and_compare(model, opt, dl, 0, SAVE_AT, x, y);
    cg_checkpoint_meta meta = {.global_step = SAVE_AT,
                               .lr = cg_optimizer_lr(opt),
                               .has_loader = true,
                               .loader = cg_dataloader_get_state(dl)};
    assert_int_equal(meta.loader.sample, SAVE_AT * CG_DT_BATCH);
    assert_int_equal(cg_dist_checkpoint_save(path, model, opt, &meta), 0);
    cg_dataloader_free(dl), cg_optimizer_free(opt), cg_module_free(model);
}

static void load_phase(cg_tensor *x, cg_tensor *y) {
    cg_module *model = cg_dt_small_cnn(1000 + (uint64_t)rank); // overwritten by the file
    cg_optimizer *opt = cg_dt_optimizer(model);
    cg_checkpoint_meta meta;
    assert_int_equal(cg_dist_checkpoint_load(path, model, opt, &meta), 0);
    assert_int_equal(meta.global_step, SAVE_AT);
    cg_dataloader *dl = sharded_loader(x, y);
    assert_int_equal(cg_dataloader_set_state(dl, &meta.loader), 0);
    train_and_compare(model, opt, dl, SAVE_AT, STEPS, x, y);
    cg_dataloader_free(dl), cg_optimizer_free(opt), cg_module_free(model);
}

static void test_resume(void **state) {
    (void)state;
    cg_tensor *x, *y;
    cg_dt_make_data(&x, &y);
    if (strcmp(phase, "load")) save_phase(x, y);
    if (strcmp(phase, "save")) load_phase(x, y);
    assert_int_equal(cg_dist_barrier(), 0);
    cg_free(x), cg_free(y);
}

int main(int argc, char **argv) {
    if (cg_dist_init(&argc, &argv)) return 1;
    rank = cg_dist_rank(), world = cg_dist_world_size();
    if (argc > 1) phase = argv[1];
    snprintf(path, sizeof path, "%s/dist_resume_%s.ckpt", CG_TEST_TMP_DIR,
             strcmp(phase, "both") ? "mpi" : "one");
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_resume)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    cg_dist_finalize();
    return failed;
}
