// docs/guide/05-distributed.c - data-parallel training: R processes, each with a replica of
// the model and its shard of every batch, gradients averaged before each step. Started
// without a launcher (or built without MPI) it is one process and the same program.
//
//   ./05-distributed                 one process
//   mpirun -np 2 ./05-distributed    two ranks, 16 samples each of every 32-sample batch
#include <cgrad.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (cg_dist_init(&argc, &argv)) return 1;
    int rank = cg_dist_rank(), world = cg_dist_world_size();

    // Every rank builds the same data (same seed); the sampler gives each its shard.
    cg_manual_seed(0);
    cg_tensor *x = cg_randn(CG_SHAPE(640, 8), NULL), *y = cg_zeros(CG_SHAPE(640, 1));
    for (int i = 0; i < 640; i++)
        for (int j = 0; j < 8; j++) y->data[i] += (j < 4 ? 1.0f : -1.0f) * x->data[8 * i + j];

    cg_manual_seed(1 + (uint64_t)rank); // different initial weights on purpose:
    cg_module *model = cg_Sequential(
        3, (cg_module *[]){cg_Linear(8, 32, NULL), cg_ReLU(), cg_Linear(32, 1, NULL)});
    cg_ddp *ddp = cg_ddp_new(model, NULL); // every rank now holds rank 0's weights
    cg_optimizer *opt =
        cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.9)});
    const int global_batch = 32;
    cg_dataloader *dl = cg_dataloader_new(x, y, global_batch / world, true, 7);
    if (!ddp || !opt || !dl || cg_dataloader_set_shard(dl, rank, world, false)) return 1;

    cg_tensor *xb, *yb;
    for (int epoch = 0; epoch < 3; epoch++) {
        double loss_sum = 0;
        int batches = 0;
        while (cg_dataloader_next(dl, &xb, &yb)) {
            cg_scope_begin();
            cg_optimizer_zero_grad(opt);
            cg_tensor *loss = cg_mse_loss(cg_ddp_forward(ddp, xb), yb, NULL);
            cg_backward(loss);  // buckets are all-reduced while backward runs
            cg_ddp_finish(ddp); // wait: every rank holds the mean gradient
            cg_optimizer_step(opt);
            loss_sum += cg_item(loss), batches++;
            cg_scope_end();
        }
        if (rank == 0) // only rank 0 prints (and would write files)
            printf("epoch %d: mean loss of rank 0's shard %.4f (%d rank%s)\n", epoch,
                   loss_sum / batches, world, world > 1 ? "s" : "");
    }

    // The replicas stayed identical: compare every parameter with rank 0's copy.
    bool same = true;
    cg_tensor_list params = cg_module_named_parameters(model);
    for (int i = 0; i < params.count; i++) {
        cg_tensor *p = params.items[i].tensor, *theirs = cg_from_data(p->ndim, p->shape, p->data);
        cg_dist_broadcast(theirs->data, theirs->numel);
        same &= memcmp(p->data, theirs->data, (size_t)p->numel * sizeof(float)) == 0;
        cg_free(theirs);
    }
    cg_tensor_list_free(&params);
    printf("rank %d of %d: parameters %s rank 0's\n", rank, world, same ? "equal" : "DIFFER from");

    cg_dataloader_free(dl);
    cg_optimizer_free(opt);
    cg_ddp_free(ddp);
    cg_module_free(model);
    cg_free(x), cg_free(y);
    cg_dist_finalize();
    return same ? 0 : 1;
}
