// tests/support/null_walk.c - the fixtures of the generated walk and its cases (null_walk.inc,
// written at build time by scripts/gen-null-walk; tests/support/null_walk.h says what a case
// is). An argument type with no fixture stops gen-null-walk with the function's name: add
// the fixture here and its line to FIXTURES in the script.
#define _POSIX_C_SOURCE 200809L
#include "null_walk.h"

#include <stdio.h>
#include <string.h>

#include "cgrad.h"

// Objects the fixtures of one call made, freed after it, newest first (a scheduler before
// its optimizer, a loader before its tensors' scope ends).
enum { NW_MAX_OWNED = 32 };
static struct {
    void *object;
    void (*free)(void *);
} nw_owned[NW_MAX_OWNED];
static int nw_n_owned;
static void *nw_own(void *object, void (*free_fn)(void *)) {
    if (object && nw_n_owned < NW_MAX_OWNED) {
        nw_owned[nw_n_owned].object = object;
        nw_owned[nw_n_owned++].free = free_fn;
    }
    return object;
}
void nw_free_owned(void) {
    while (nw_n_owned > 0) {
        nw_n_owned--;
        nw_owned[nw_n_owned].free(nw_owned[nw_n_owned].object);
    }
}
static void nw_free_module(void *p) {
    cg_module_free(p);
}
static void nw_free_optimizer(void *p) {
    cg_optimizer_free(p);
}
static void nw_free_scheduler(void *p) {
    cg_scheduler_free(p);
}
static void nw_free_loader(void *p) {
    cg_dataloader_free(p);
}
static void nw_free_ddp(void *p) {
    cg_ddp_free(p);
}
static void nw_free_metrics(void *p) {
    cg_metrics_close(p);
}
static void nw_free_dataset(void *p) {
    cg_dataset_free(p);
}
static void nw_free_batch_loader(void *p) {
    cg_loader_free(p);
}
#define NW_KEEP static __attribute__((unused))
// What a call returned, if it made something (a NULL optional argument can succeed).
NW_KEEP cg_module *nw_keep_module(cg_module *m) {
    return nw_own(m, nw_free_module);
}
NW_KEEP cg_optimizer *nw_keep_optimizer(cg_optimizer *o) {
    return nw_own(o, nw_free_optimizer);
}
NW_KEEP cg_scheduler *nw_keep_scheduler(cg_scheduler *s) {
    return nw_own(s, nw_free_scheduler);
}
NW_KEEP cg_dataloader *nw_keep_loader(cg_dataloader *l) {
    return nw_own(l, nw_free_loader);
}
NW_KEEP cg_ddp *nw_keep_ddp(cg_ddp *d) {
    return nw_own(d, nw_free_ddp);
}
NW_KEEP cg_metrics *nw_keep_metrics(cg_metrics *m) {
    return nw_own(m, nw_free_metrics);
}
NW_KEEP cg_dataset *nw_keep_dataset(cg_dataset *d) {
    return nw_own(d, nw_free_dataset);
}
NW_KEEP cg_loader *nw_keep_batch_loader(cg_loader *l) { // freed before its dataset (LIFO)
    return nw_own(l, nw_free_batch_loader);
}

// Fixtures, made fresh for every call (in its scope) so no call sees another's leftovers;
// a fixture only other functions' calls need may go unused as the headers change.
#define NW_FIXTURE static __attribute__((unused))
NW_FIXTURE cg_tensor *nw_tensor(void) {
    return cg_ones(CG_SHAPE(2, 3, 8, 8));
}
NW_FIXTURE cg_tensor **nw_tensors(void) {
    static cg_tensor *list[4];
    for (int i = 0; i < 4; i++) list[i] = nw_tensor();
    return list;
}
NW_FIXTURE char nw_path_buf[512];
NW_FIXTURE const char *nw_path(void) {
    snprintf(nw_path_buf, sizeof nw_path_buf, "%s/null_walk_file", CG_TEST_TMP_DIR);
    return nw_path_buf;
}
NW_FIXTURE char *nw_text_buffer(void) { // for output arguments (char *buf, size_t size)
    static char buf[4096];
    return buf;
}
NW_FIXTURE const char *const *nw_names(void) {
    static const char *const names[] = {"a", "b", "c", "d"};
    return names;
}
NW_FIXTURE char ***nw_argv(void) {
    static char name[] = "null_walk";
    static char *argv[] = {name, NULL};
    static char **p;
    p = argv;
    return &p;
}
NW_FIXTURE int *nw_ints(void) {
    static int v[8];
    for (int i = 0; i < 8; i++) v[i] = 1;
    return v;
}
NW_FIXTURE int64_t *nw_shape(void) {
    static int64_t v[8];
    for (int i = 0; i < 8; i++) v[i] = i < 4 ? (int64_t[]){2, 3, 8, 8}[i] : 1;
    return v;
}
NW_FIXTURE float *nw_floats(void) {
    static float v[4096];
    return v;
}
NW_FIXTURE void *nw_bytes(void) {
    static _Alignas(64) unsigned char v[4096];
    memset(v, 0, sizeof v);
    return v;
}
NW_FIXTURE cg_module *nw_module(void) {
    return nw_keep_module(cg_Linear(3, 2, NULL));
}
NW_FIXTURE cg_module *nw_given_module(void) { // for a callee that takes it over
    return cg_Linear(3, 2, NULL);
}
NW_FIXTURE cg_module *const *nw_given_modules(void) {
    static cg_module *list[1];
    list[0] = nw_given_module();
    return list;
}
NW_FIXTURE cg_optimizer *nw_optimizer(void) {
    static cg_tensor *param;
    param = cg_requires_grad(cg_ones(CG_SHAPE(3)), true); // in the call's scope
    return nw_keep_optimizer(cg_sgd(1, &param, &(cg_sgd_options){.lr = CG_SET(0.1)}));
}
NW_FIXTURE cg_scheduler *nw_scheduler(void) {
    return nw_keep_scheduler(cg_step_lr(nw_optimizer(), 1, 0.5f));
}
NW_FIXTURE cg_scheduler **nw_given_schedulers(void) {
    static cg_scheduler *list[1];
    list[0] = cg_step_lr(nw_optimizer(), 1, 0.5f);
    return list;
}
NW_FIXTURE cg_dataloader *nw_loader(void) {
    cg_tensor *x = cg_ones(CG_SHAPE(4, 3)), *y = cg_zeros(CG_SHAPE(4));
    return nw_keep_loader(cg_dataloader_new(x, y, 2, false, 0));
}
NW_FIXTURE cg_metrics *nw_metrics(void) { // a CSV log in the test's directory
    char dir[600];
    snprintf(dir, sizeof dir, "%s/null_walk_metrics", CG_TEST_TMP_DIR);
    return nw_keep_metrics(cg_metrics_open(dir, &(cg_metrics_options){.formats = CG_METRICS_CSV}));
}
NW_FIXTURE cg_dataset *nw_dataset(void) { // 4 samples (1, 2, 2), labels 0..3
    cg_tensor *x = cg_ones(CG_SHAPE(4, 1, 2, 2)), *y = cg_arange(0, 4, 1);
    return nw_keep_dataset(cg_tensor_dataset_new(x, y));
}
NW_FIXTURE cg_loader *nw_batch_loader(void) {
    return nw_keep_batch_loader(cg_loader_new(nw_dataset(), NULL, 0, NULL));
}
NW_FIXTURE cg_ddp *nw_ddp(void) {
    return nw_keep_ddp(cg_ddp_new(nw_module(), NULL));
}
NW_FIXTURE cg_rng *nw_rng(void) {
    static cg_rng rng;
    cg_rng_seed(&rng, 1);
    return &rng;
}
NW_FIXTURE cg_node *nw_node(void) {
    cg_tensor *leaf = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    return cg_mul_scalar(leaf, 2)->node;
}
NW_FIXTURE void nw_backward(cg_node *n, const cg_tensor *g) {
    (void)n, (void)g;
}
NW_FIXTURE const cg_op nw_op = {"null_walk", nw_backward, "nothing"};
NW_FIXTURE const cg_module_class nw_class = {.name = "NullWalk"};
NW_FIXTURE FILE *nw_file(void) {
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    return f;
}
NW_FIXTURE void nw_part(void *ctx, int64_t part) {
    (void)ctx, (void)part;
}
NW_FIXTURE void nw_range(void *ctx, int64_t begin, int64_t end) {
    (void)ctx, (void)begin, (void)end;
}
NW_FIXTURE void nw_pack_b(const void *context, int64_t k0, int64_t k1, int64_t j0, int64_t j1,
                          int nr, float *dst) {
    (void)context, (void)k0, (void)k1, (void)j0, (void)j1, (void)nr, (void)dst;
}
NW_FIXTURE void nw_grad_ready(cg_tensor *leaf, void *ctx) {
    (void)leaf, (void)ctx;
}
NW_FIXTURE cg_tensor *nw_gradcheck_fn(cg_tensor **inputs, void *ctx) {
    (void)ctx;
    return cg_sum(inputs[0], 0, NULL, false);
}

#include "null_walk.inc"
