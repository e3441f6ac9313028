// tests/test_bad_calls.c - wrong calls across the whole API, one per line: NULL tensors and
// options, shapes that do not fit, wrong ranks, negative/zero/huge sizes, out-of-range dims,
// bad conv/pool arguments, double backward, optimizer and loader misuse, bad files, NaN/Inf
// and out-of-range labels. Each call must not crash (this runs under ASan/UBSan too), must
// return its failure value, must set the status, and must say what failed: the message
// has to contain the case's substring (the op and the argument or the shapes).
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "null_walk.h"
#include "testing.h"

// Failure values: a NULL tensor/pointer, -1, false, or (for void functions) just the error.
#define T(e) ((e) == NULL)
#define I(e) ((e) == -1)
#define B(e) (!(e))
#define V(e) ((e), true)

typedef struct tally {
    int cases, bad;
    char report[32768];
    size_t used;
} tally;
static tally tl;

static void check(int line, const char *call, bool failed, cg_status want, const char *substring) {
    tl.cases++;
    cg_status got = cg_last_error();
    const char *msg = cg_last_error_message();
    const char *why = !failed                   ? "returned success"
                      : got == CG_OK            ? "set no status"
                      : got != want             ? "set the wrong status"
                      : !strstr(msg, substring) ? "message lacks the substring"
                                                : NULL;
    if (getenv("CG_BAD_CALLS_VERBOSE")) printf("line %d: %s\n", line, msg); // to review them all
    if (why) {
        tl.bad++;
        tl.used += (size_t)snprintf(tl.report + tl.used, sizeof tl.report - tl.used,
                                    "line %d: %s %s (%s, \"%s\"; wanted %s, \"%s\")\n", line, call,
                                    why, cg_status_name(got), msg, cg_status_name(want), substring);
        if (tl.used >= sizeof tl.report) tl.used = sizeof tl.report - 1;
    }
    cg_clear_error();
}
#define CASE(status, substring, call)                                                              \
    do {                                                                                           \
        cg_clear_error();                                                                          \
        bool failed_ = call;                                                                       \
        check(__LINE__, #call, failed_, status, substring);                                        \
    } while (0)

// ---- fixtures ---------------------------------------------------------------------------------
static cg_tensor *a23, *b45, *v3, *s0, *img, *w433, *w_bad, *bias5, *logits, *labels, *e0;
static cg_tensor *nan_labels, *inf_labels, *big_labels, *neg_labels, *frac_labels, *grad_x;
static cg_module *lin, *conv;
static char dir_path[512], garbage_path[512], missing_path[512], saved_path[512];

static void make_fixtures(void) {
    a23 = cg_ones(CG_SHAPE(2, 3));
    b45 = cg_ones(CG_SHAPE(4, 5));
    v3 = cg_ones(CG_SHAPE(3));
    s0 = cg_scalar(1.0f);
    e0 = cg_empty(CG_SHAPE(0));
    img = cg_ones(CG_SHAPE(2, 3, 8, 8));
    w433 = cg_ones(CG_SHAPE(4, 3, 3, 3));
    w_bad = cg_ones(CG_SHAPE(4, 2, 3, 3));
    bias5 = cg_ones(CG_SHAPE(5));
    logits = cg_ones(CG_SHAPE(2, 3));
    labels = cg_from_data(CG_SHAPE(2), (float[]){0, 2});
    nan_labels = cg_from_data(CG_SHAPE(2), (float[]){0, NAN});
    inf_labels = cg_from_data(CG_SHAPE(2), (float[]){INFINITY, 0});
    big_labels = cg_from_data(CG_SHAPE(2), (float[]){0, 3});
    neg_labels = cg_from_data(CG_SHAPE(2), (float[]){-1, 0});
    frac_labels = cg_from_data(CG_SHAPE(2), (float[]){0.5f, 0});
    grad_x = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    lin = cg_Linear(3, 2, NULL);
    conv = cg_Conv2d(3, 4, 3, NULL);
    snprintf(dir_path, sizeof dir_path, "%s/bad_calls_dir", CG_TEST_TMP_DIR);
    mkdir(dir_path, 0755);
    snprintf(garbage_path, sizeof garbage_path, "%s/bad_calls_garbage", CG_TEST_TMP_DIR);
    FILE *f = fopen(garbage_path, "wb");
    fputs("this is no file format at all, just some text", f);
    fclose(f);
    snprintf(missing_path, sizeof missing_path, "%s/no_such_dir/file", CG_TEST_TMP_DIR);
    snprintf(saved_path, sizeof saved_path, "%s/bad_calls_lin.safetensors", CG_TEST_TMP_DIR);
    cg_module_save(saved_path, lin);
}

#define REGRESSION(name) CG_FIXTURE_DIR "/../fuzz/regressions/image/" name

// ---- calls that need a few statements ------------------------------------------------------
static int double_backward(void) {
    cg_tensor *loss = cg_sum(cg_mul(grad_x, grad_x), 0, NULL, false);
    if (cg_backward(loss) != 0) return 0; // the first one must work
    int rc = cg_backward(loss);
    cg_free(loss);
    return rc;
}
static int step_with_bad_grad(void) {
    cg_tensor *p = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    p->grad = cg_ones(CG_SHAPE(4));
    cg_unscope(p->grad);
    cg_optimizer *opt = cg_sgd(1, &p, &(cg_sgd_options){.lr = CG_SET(0.1)});
    int rc = cg_optimizer_step(opt);
    cg_optimizer_free(opt);
    cg_free(p);
    return rc;
}
static cg_dataloader *loader_rows_mismatch(void) {
    return cg_dataloader_new(a23, v3, 2, false, 0);
}
static int set_bad_loader_state(void) {
    cg_dataloader *dl = cg_dataloader_new(a23, NULL, 1, false, 0);
    int rc = cg_dataloader_set_state(dl, NULL);
    cg_dataloader_free(dl);
    return rc;
}
static cg_module *too_many_params(void) {
    static const cg_module_class cls = {.name = "Many"};
    cg_module *m = cg_module_new(&cls, NULL, 0);
    cg_tensor *last = NULL;
    for (int i = 0; i <= CG_MODULE_MAX_TENSORS; i++)
        last = cg_module_add_param(m, "p", cg_ones(CG_SHAPE(1)));
    cg_module_free(m);
    return last == NULL ? NULL : m;
}
static int save_duplicate_names(void) {
    cg_tensor_list l = {2, (cg_named_tensor[]){{"w", v3}, {"w", v3}}};
    return cg_safetensors_save(saved_path, &l, 0, NULL, NULL);
}
static int save_null_tensor(void) {
    cg_tensor_list l = {1, (cg_named_tensor[]){{"w", NULL}}};
    return cg_safetensors_save(saved_path, &l, 0, NULL, NULL);
}
static int save_into_missing_dir(void) {
    cg_tensor_list l = {1, (cg_named_tensor[]){{"w", v3}}};
    return cg_safetensors_save(missing_path, &l, 0, NULL, NULL);
}
static int load_into_wrong_model(void) {
    cg_module *other = cg_Linear(4, 2, NULL);
    int rc = cg_module_load(saved_path, other);
    cg_module_free(other);
    return rc;
}
static int load_safetensors(const char *path) {
    cg_safetensors st;
    return cg_safetensors_load(path, &st);
}
static int normalize_with_zero_std(void) {
    cg_dataloader *dl = cg_dataloader_new(a23, NULL, 1, false, 0);
    int rc = cg_dataloader_set_normalize(dl, 0, 0);
    cg_dataloader_free(dl);
    return rc;
}
static cg_tensor *flatten_out_of_range(void) {
    cg_module *m = cg_Flatten(3, 5);
    cg_tensor *y = cg_module_forward(m, a23);
    cg_module_free(m);
    return y;
}
static cg_optimizer *adam_for_no_params(void) {
    cg_module *m = cg_ReLU();
    cg_optimizer *opt = cg_adam_for(m, &(cg_adam_options){.lr = CG_SET(0.1)});
    cg_module_free(m);
    return opt;
}
static int load_mnist(const char *dir) {
    cg_mnist m;
    return cg_mnist_load(dir, true, &m);
}

static int loader_state_negative_world(void) {
    cg_dataloader *dl = cg_dataloader_new(a23, NULL, 1, false, 0);
    cg_dataloader_state st = cg_dataloader_get_state(dl);
    st.world = -2;
    int rc = cg_dataloader_set_state(dl, &st);
    cg_dataloader_free(dl);
    return rc;
}
static int evaluate_without_labels(void) {
    cg_dataloader *dl = cg_dataloader_new(a23, NULL, 1, false, 0);
    cg_eval_result r;
    int rc = cg_evaluate(lin, dl, &r);
    cg_dataloader_free(dl);
    return rc;
}
static int load_bad_json_header(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/bad_calls_bad_json.safetensors", CG_TEST_TMP_DIR);
    const char json[] = "{\"w\": {\"dtype\": \"F32\",, \"shape\": [1]}}";
    uint64_t n = sizeof json - 1;
    FILE *f = fopen(path, "wb");
    fwrite(&n, 8, 1, f); // little-endian on every machine cgrad runs on
    fwrite(json, 1, n, f);
    fclose(f);
    cg_safetensors st;
    return cg_safetensors_load(path, &st);
}
// The dist API out of order: each returns -1 or (void calls) leaves the error.
static int dist_negative_count(void) {
    float v = 1;
    if (cg_dist_init(NULL, NULL) != 0) return 0;
    return cg_dist_allreduce_sum(&v, -1);
}
static int dist_twice_init(void) {
    return cg_dist_init(NULL, NULL);
}
static int dist_after_finalize(void) {
    cg_dist_finalize();
    return cg_dist_barrier();
}

static void test_bad_calls(void **state) {
    (void)state;
    cg_scope_begin(); // every tensor made here, including by failed calls, is freed at the end
    make_fixtures();
    const cg_conv_options pad_neg = {.padding = -1}, stride0 = {.stride = -1},
                          dil_neg = {.dilation = -2}, groups2 = {.groups = 2},
                          pad_max = {.padding = INT_MAX},
                          same_s2 = {.padding_kind = CG_PADDING_SAME, .stride = 2},
                          outpad = {.output_padding = 3}, groups_neg = {.groups = -3};
    const cg_pool_options k_neg = {.kernel_size = -2}, k_big = {.kernel_size = 9},
                          pad_half = {.kernel_size = 2, .padding = 2},
                          s_neg = {.kernel_size = 2, .stride = -1}, k0 = {0};
    int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    // clang-format off
    // ---- tensor creation and access
    CASE(CG_ERR_SHAPE, "empty: negative size -1 in dim 1", T(cg_empty(CG_SHAPE(2, -1))));
    CASE(CG_ERR_SHAPE, "empty: 9 dims requested", T(cg_empty(9, nine)));
    CASE(CG_ERR_SHAPE, "empty: -1 dims requested", T(cg_empty(-1, nine)));
    CASE(CG_ERR_ARG, "empty: shape is NULL for 2 dims", T(cg_empty(2, NULL)));
    CASE(CG_ERR_SHAPE, "zeros: shape [4294967296,4294967296] has more than 2^58 elements (integer multiplication overflow)", T(cg_zeros(CG_SHAPE(INT64_C(1) << 32, INT64_C(1) << 32))));
    CASE(CG_ERR_SHAPE, "ones: shape [1099511627776,1099511627776,1] has more than 2^58 elements", T(cg_ones(CG_SHAPE(INT64_C(1) << 40, INT64_C(1) << 40, 0 + 1))));
    CASE(CG_ERR_SHAPE, "[4611686018427387904]", T(cg_full(CG_SHAPE(INT64_C(1) << 62), 1.0f)));
    CASE(CG_ERR_ARG, "from_data: data is NULL", T(cg_from_data(CG_SHAPE(2), NULL)));
    CASE(CG_ERR_SHAPE, "negative size -3", T(cg_from_data(CG_SHAPE(-3), (float[]){1})));
    CASE(CG_ERR_ARG, "arange: step must be non-zero", T(cg_arange(0, 10, 0)));
    CASE(CG_ERR_ARG, "arange: step must be non-zero and bounds finite", T(cg_arange(NAN, 10, 1)));
    CASE(CG_ERR_ARG, "end inf", T(cg_arange(0, INFINITY, 1)));
    CASE(CG_ERR_ARG, "arange: step 1 does not lead from 5 to 0", T(cg_arange(5, 0, 1)));
    CASE(CG_ERR_ARG, "arange: 1e+38 elements", T(cg_arange(0, 1e38f, 1)));
    CASE(CG_ERR_ARG, "empty_like: argument 'tensor' is NULL", T(cg_empty_like(NULL)));
    CASE(CG_ERR_ARG, "zeros_like: argument 'tensor' is NULL", T(cg_zeros_like(NULL)));
    CASE(CG_ERR_ARG, "ones_like: argument 'tensor' is NULL", T(cg_ones_like(NULL)));
    CASE(CG_ERR_ARG, "fill_: argument 'tensor' is NULL", T(cg_fill_(NULL, 1)));
    CASE(CG_ERR_ARG, "item: argument 'tensor' is NULL", B(!isnan(cg_item(NULL))));
    CASE(CG_ERR_SHAPE, "item: a tensor of shape [2,3] has 6 elements", B(!isnan(cg_item(a23))));
    CASE(CG_ERR_ARG, "size: argument 'tensor' is NULL", I(cg_size(NULL, 0)));
    CASE(CG_ERR_ARG, "size: dim 5 out of range for a 2-d tensor", I(cg_size(a23, 5)));
    CASE(CG_ERR_ARG, "get: 1 indices for a tensor of shape [2,3]", B(!isnan(cg_get(a23, CG_SHAPE(0)))));
    CASE(CG_ERR_ARG, "get: index 7 out of range for dim 1 of shape [2,3]", B(!isnan(cg_get(a23, CG_SHAPE(0, 7)))));
    CASE(CG_ERR_ARG, "get: argument 'tensor' is NULL", B(!isnan(cg_get(NULL, CG_SHAPE(0)))));
    CASE(CG_ERR_ARG, "set: index -5 out of range for dim 0 of shape [2,3]", V(cg_set(a23, CG_SHAPE(-5, 0), 1)));
    CASE(CG_ERR_ARG, "uniform_: argument 'tensor' is NULL", T(cg_uniform_(NULL, 0, 1, NULL)));
    CASE(CG_ERR_ARG, "normal_: argument 'tensor' is NULL", T(cg_normal_(NULL, 0, 1, NULL)));
    CASE(CG_ERR_ARG, "normal_", T(cg_normal_(v3, 0, -1, NULL)));
    CASE(CG_ERR_ARG, "uniform_", T(cg_uniform_(v3, 2, 1, NULL)));
    // ---- elementwise
    CASE(CG_ERR_ARG, "add: argument 'a' is NULL", T(cg_add(NULL, a23)));
    CASE(CG_ERR_ARG, "add: argument 'b' is NULL", T(cg_add(a23, NULL)));
    CASE(CG_ERR_SHAPE, "add: shapes [2,3] and [4,5] cannot be broadcast", T(cg_add(a23, b45)));
    CASE(CG_ERR_SHAPE, "sub: shapes [2,3] and [4,5]", T(cg_sub(a23, b45)));
    CASE(CG_ERR_SHAPE, "mul: shapes [4,5] and [2,3]", T(cg_mul(b45, a23)));
    CASE(CG_ERR_SHAPE, "div: shapes [2,3] and [5]", T(cg_div(a23, bias5)));
    CASE(CG_ERR_SHAPE, "eq: shapes [2,3] and [4,5]", T(cg_eq(a23, b45)));
    CASE(CG_ERR_SHAPE, "lt: shapes [2,3] and [4,5]", T(cg_lt(a23, b45)));
    CASE(CG_ERR_SHAPE, "ge: shapes [2,3] and [4,5]", T(cg_ge(a23, b45)));
    CASE(CG_ERR_ARG, "where: argument 'condition' is NULL", T(cg_where(NULL, a23, a23)));
    CASE(CG_ERR_SHAPE, "where", T(cg_where(a23, b45, a23)));
    CASE(CG_ERR_ARG, "add_scalar: argument", T(cg_add_scalar(NULL, 1)));
    CASE(CG_ERR_ARG, "mul_scalar: argument", T(cg_mul_scalar(NULL, 1)));
    CASE(CG_ERR_ARG, "rdiv_scalar: argument", T(cg_rdiv_scalar(1, NULL)));
    CASE(CG_ERR_ARG, "neg: argument", T(cg_neg(NULL)));
    CASE(CG_ERR_ARG, "exp: argument", T(cg_exp(NULL)));
    CASE(CG_ERR_ARG, "log: argument", T(cg_log(NULL)));
    CASE(CG_ERR_ARG, "sqrt: argument", T(cg_sqrt(NULL)));
    CASE(CG_ERR_ARG, "abs: argument", T(cg_abs(NULL)));
    CASE(CG_ERR_ARG, "pow: argument", T(cg_pow(NULL, 2)));
    CASE(CG_ERR_ARG, "clamp: argument", T(cg_clamp(NULL, 0, 1)));
    CASE(CG_ERR_ARG, "relu: argument", T(cg_relu(NULL)));
    CASE(CG_ERR_ARG, "leaky_relu: argument", T(cg_leaky_relu(NULL, NULL)));
    CASE(CG_ERR_ARG, "sigmoid: argument", T(cg_sigmoid(NULL)));
    CASE(CG_ERR_ARG, "tanh: argument", T(cg_tanh(NULL)));
    // ---- reductions
    CASE(CG_ERR_ARG, "sum: argument 'input' is NULL", T(cg_sum(NULL, 0, NULL, false)));
    CASE(CG_ERR_ARG, "sum: dim 2 out of range for a 2-d tensor", T(cg_sum(a23, 1, (int[]){2}, false)));
    CASE(CG_ERR_ARG, "sum: dim -1 appears twice in the list of dims", T(cg_sum(a23, 2, (int[]){1, -1}, false)));
    CASE(CG_ERR_ARG, "sum: dims is NULL (ndims 1) for input of shape [2,3]", T(cg_sum(a23, 1, NULL, false)));
    CASE(CG_ERR_ARG, "sum: ndims is negative", T(cg_sum(a23, -2, (int[]){0}, false)));
    CASE(CG_ERR_ARG, "mean: dim -3 out of range", T(cg_mean(a23, 1, (int[]){-3}, true)));
    CASE(CG_ERR_ARG, "var: argument", T(cg_var(NULL, 0, NULL, 1, false)));
    CASE(CG_ERR_ARG, "var: dim 9 out of range", T(cg_var(a23, 1, (int[]){9}, 1, false)));
    CASE(CG_ERR_ARG, "max: dim 2 out of range", T(cg_max(a23, 2, false)));
    CASE(CG_ERR_ARG, "argmax: dim -3 out of range", T(cg_argmax(a23, -3, false)));
    CASE(CG_ERR_ARG, "min: argument", T(cg_min(NULL, 0, false)));
    CASE(CG_ERR_ARG, "argmin: dim 4 out of range", T(cg_argmin(a23, 4, false)));
    CASE(CG_ERR_ARG, "max: argument 'input' is NULL", T(cg_max_all(NULL)));
    CASE(CG_ERR_SHAPE, "max: input of shape [0] is empty", T(cg_max_all(e0)));
    CASE(CG_ERR_SHAPE, "min: input of shape [0] is empty", T(cg_min_all(e0)));
    CASE(CG_ERR_SHAPE, "max: ", T(cg_max(e0, 0, false)));
    CASE(CG_ERR_ARG, "softmax: dim 2 out of range", T(cg_softmax(a23, 2)));
    CASE(CG_ERR_ARG, "log_softmax: dim -3 out of range", T(cg_log_softmax(a23, -3)));
    CASE(CG_ERR_ARG, "softmax: argument", T(cg_softmax(NULL, 0)));
    // ---- matmul and linear
    CASE(CG_ERR_ARG, "matmul: argument", T(cg_matmul(NULL, a23)));
    CASE(CG_ERR_SHAPE, "matmul: cannot multiply [2,3] by [4,5]: inner dims 3 != 4", T(cg_matmul(a23, b45)));
    CASE(CG_ERR_SHAPE, "matmul: both arguments need at least 1 dim, got [] and [3]", T(cg_matmul(s0, v3)));
    CASE(CG_ERR_SHAPE, "matmul of [2,3,8,8] and [4,3,8,8]: shapes [2,3] and [4,3] cannot be broadcast", T(cg_matmul(img, cg_ones(CG_SHAPE(4, 3, 8, 8)))));
    CASE(CG_ERR_ARG, "linear: argument 'weight' is NULL", T(cg_linear(a23, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "linear", T(cg_linear(a23, b45, NULL)));
    CASE(CG_ERR_SHAPE, "linear", T(cg_linear(a23, cg_ones(CG_SHAPE(2, 3)), bias5)));
    // ---- views
    CASE(CG_ERR_ARG, "reshape: argument 'input' is NULL", T(cg_reshape(NULL, CG_SHAPE(6))));
    CASE(CG_ERR_SHAPE, "reshape: shape [4] is invalid for input of shape [2,3] (6 elements)", T(cg_reshape(a23, CG_SHAPE(4))));
    CASE(CG_ERR_SHAPE, "reshape: invalid shape [-1,-1] for input of shape [2,3]", T(cg_reshape(a23, CG_SHAPE(-1, -1))));
    CASE(CG_ERR_SHAPE, "reshape: invalid shape [-2,3] for input of shape [2,3]", T(cg_reshape(a23, CG_SHAPE(-2, 3))));
    CASE(CG_ERR_SHAPE, "reshape: 9 dims requested", T(cg_reshape(a23, 9, nine)));
    CASE(CG_ERR_SHAPE, "shape [7] is invalid for input of shape [2,3] (6 elements)", T(cg_view(a23, CG_SHAPE(7))));
    CASE(CG_ERR_ARG, "flatten: dim 3 out of range", T(cg_flatten(a23, 0, 3)));
    CASE(CG_ERR_ARG, "flatten: start_dim 1 comes after end_dim 0", T(cg_flatten(a23, 1, 0)));
    CASE(CG_ERR_ARG, "squeeze: dim 2 out of range", T(cg_squeeze(a23, 2)));
    CASE(CG_ERR_ARG, "unsqueeze: dim 4 out of range", T(cg_unsqueeze(a23, 4)));
    CASE(CG_ERR_ARG, "narrow: rows [5, 6) out of range for dim 1 of shape [2,3]", T(cg_narrow(a23, 1, 5, 1)));
    CASE(CG_ERR_ARG, "narrow: rows [0, -1) out of range for dim 1", T(cg_narrow(a23, 1, 0, -1)));
    CASE(CG_ERR_ARG, "narrow: dim 2 out of range", T(cg_narrow(a23, 2, 0, 1)));
    CASE(CG_ERR_ARG, "rows [1, 9) out of range for dim 0 of shape [2,3]", T(cg_slice(a23, 1, 9)));
    CASE(CG_ERR_ARG, "permute: dims is NULL for input of shape [2,3]", T(cg_permute(a23, NULL)));
    CASE(CG_ERR_ARG, "permute: dim 1 repeated for input of shape [2,3]", T(cg_permute(a23, (int[]){1, 1})));
    CASE(CG_ERR_ARG, "permute: dim 2 out of range", T(cg_permute(a23, (int[]){0, 2})));
    CASE(CG_ERR_ARG, "transpose: dim 2 out of range", T(cg_transpose(a23, 0, 2)));
    CASE(CG_ERR_ARG, "cat: ", T(cg_cat(2, NULL, 0)));
    CASE(CG_ERR_ARG, "cat: ", T(cg_cat(0, (cg_tensor *[]){a23}, 0)));
    CASE(CG_ERR_SHAPE, "cat: ", T(cg_cat(2, (cg_tensor *[]){a23, b45}, 0)));
    CASE(CG_ERR_ARG, "cat: dim 2 out of range", T(cg_cat(2, (cg_tensor *[]){a23, a23}, 2)));
    CASE(CG_ERR_ARG, "cat: ", T(cg_cat(2, (cg_tensor *[]){a23, NULL}, 0)));
    CASE(CG_ERR_ARG, "copy: argument", T(cg_copy(NULL)));
    CASE(CG_ERR_ARG, "detach: argument", T(cg_detach(NULL)));
    // ---- convolution, padding, fold
    CASE(CG_ERR_ARG, "conv2d: argument 'input' is NULL", T(cg_conv2d(NULL, w433, NULL, NULL)));
    CASE(CG_ERR_ARG, "conv2d: argument 'weight' is NULL", T(cg_conv2d(img, NULL, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d: ", T(cg_conv2d(a23, w433, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d: Given groups=1, weight of size [4,2,3,3], expected input[2,3,8,8] to have 2 channels", T(cg_conv2d(img, w_bad, NULL, NULL)));
    CASE(CG_ERR_ARG, "conv2d: negative padding", T(cg_conv2d(img, w433, NULL, &pad_neg)));
    CASE(CG_ERR_ARG, "conv2d: non-positive stride", T(cg_conv2d(img, w433, NULL, &stride0)));
    CASE(CG_ERR_ARG, "conv2d: dilation", T(cg_conv2d(img, w433, NULL, &dil_neg)));
    CASE(CG_ERR_SHAPE, "conv2d: in_channels 3 is not divisible by groups=2", T(cg_conv2d(img, w433, NULL, &groups2)));
    CASE(CG_ERR_ARG, "conv2d: non-positive groups is not supported: groups=-3", T(cg_conv2d(img, w433, NULL, &groups_neg)));
    CASE(CG_ERR_SHAPE, "conv2d: Calculated padded input size per channel: (8, 8). Kernel size: (9, 9)", T(cg_conv2d(img, cg_ones(CG_SHAPE(4, 3, 9, 9)), NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d: bias", T(cg_conv2d(img, w433, bias5, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d: sizes overflow", T(cg_conv2d(img, w433, NULL, &pad_max)));
    CASE(CG_ERR_ARG, "conv2d: padding='same' is not supported for strided convolutions", T(cg_conv2d(img, w433, NULL, &same_s2)));
    CASE(CG_ERR_ARG, "conv_transpose2d: output padding must be smaller than either stride or dilation", T(cg_conv_transpose2d(img, cg_ones(CG_SHAPE(3, 4, 3, 3)), NULL, &outpad)));
    CASE(CG_ERR_ARG, "conv_transpose2d: negative padding", T(cg_conv_transpose2d(img, cg_ones(CG_SHAPE(3, 4, 3, 3)), NULL, &pad_neg)));
    CASE(CG_ERR_SHAPE, "conv_transpose2d: ", T(cg_conv_transpose2d(img, w433, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv1d: ", T(cg_conv1d(img, w433, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv_transpose1d: ", T(cg_conv_transpose1d(v3, w433, NULL, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d_matrix: matrix shape [4398029733904,3298534883328] has more than 2^58 elements", T(cg_conv2d_matrix(w433, 1 << 20, 1 << 20, NULL)));
    CASE(CG_ERR_ARG, "conv2d_matrix: argument 'weight' is NULL", T(cg_conv2d_matrix(NULL, 4, 4, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d_direct: ", T(cg_conv2d_direct(img, w_bad, NULL, NULL)));
    CASE(CG_ERR_ARG, "pad: ", T(cg_pad(img, 3, (int[]){1, 1, 1}, CG_PAD_ZEROS, 0)));
    CASE(CG_ERR_ARG, "pad: ", T(cg_pad(v3, 4, (int[]){1, 1, 1, 1}, CG_PAD_ZEROS, 0)));
    CASE(CG_ERR_ARG, "pad: argument", T(cg_pad(NULL, 2, (int[]){1, 1}, CG_PAD_ZEROS, 0)));
    CASE(CG_ERR_SHAPE, "pad: reflect padding with 2 values", T(cg_pad(img, 2, (int[]){9, 9}, CG_PAD_REFLECT, 0)));
    CASE(CG_ERR_ARG, "unfold: argument", T(cg_unfold(NULL, NULL)));
    CASE(CG_ERR_ARG, "unfold: options with kernel_size are required", T(cg_unfold(v3, NULL)));
    CASE(CG_ERR_ARG, "fold: options with kernel_size are required", T(cg_fold(a23, 4, 4, NULL)));
    CASE(CG_ERR_SHAPE, "conv2d: Given groups=1, weight of size [4,2,3,3]", I(cg_conv2d_output_shape(img, w_bad, NULL, nine)));
    // ---- pooling, dropout, batch norm
    CASE(CG_ERR_ARG, "max_pool2d: argument", T(cg_max_pool2d(NULL, &k_big)));
    CASE(CG_ERR_SHAPE, "max_pool2d: ", T(cg_max_pool2d(v3, &k_big)));
    CASE(CG_ERR_ARG, "max_pool2d: kernel_size", T(cg_max_pool2d(img, &k_neg)));
    CASE(CG_ERR_ARG, "max_pool2d: padding (2, 2) should be at most half of the kernel size", T(cg_max_pool2d(img, &pad_half)));
    CASE(CG_ERR_SHAPE, "max_pool2d: ", T(cg_max_pool2d(img, &k_big)));
    CASE(CG_ERR_ARG, "avg_pool2d: kernel_size (2, 2), stride (-1, -1) and dilation (1, 1) must be > 0", T(cg_avg_pool2d(img, &s_neg)));
    CASE(CG_ERR_ARG, "max_pool2d: kernel_size", T(cg_max_pool2d(img, &k0)));
    CASE(CG_ERR_ARG, "avg_pool2d: ", T(cg_avg_pool2d(img, NULL)));
    CASE(CG_ERR_ARG, "adaptive_avg_pool2d: ", T(cg_adaptive_avg_pool2d(img, 0, 0)));
    CASE(CG_ERR_ARG, "adaptive_avg_pool2d: argument", T(cg_adaptive_avg_pool2d(NULL, 2, 2)));
    CASE(CG_ERR_SHAPE, "adaptive_avg_pool2d: ", T(cg_adaptive_avg_pool2d(v3, 2, 2)));
    CASE(CG_ERR_ARG, "dropout: probability p = 1.5 is not in [0, 1]", T(cg_dropout(a23, 1.5f, true)));
    CASE(CG_ERR_ARG, "dropout: probability p = -0.1 is not in [0, 1]", T(cg_dropout(a23, -0.1f, true)));
    CASE(CG_ERR_ARG, "dropout: probability p = nan is not in [0, 1]", T(cg_dropout(a23, NAN, true)));
    CASE(CG_ERR_SHAPE, "batch_norm2d: ", T(cg_batch_norm2d(a23, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f)));
    CASE(CG_ERR_SHAPE, "batch_norm2d: ", T(cg_batch_norm2d(img, bias5, bias5, NULL, NULL, false, 0.1f, 1e-5f)));
    // ---- losses: shapes, labels out of range, NaN/Inf labels
    CASE(CG_ERR_ARG, "cross_entropy: argument", T(cg_cross_entropy(NULL, labels, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: argument", T(cg_cross_entropy(logits, NULL, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: target[1] = 3 is not a class index in [0, 3)", T(cg_cross_entropy(logits, big_labels, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: target[0] = -1 is not a class index", T(cg_cross_entropy(logits, neg_labels, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: target[0] = 0.5 is not a class index", T(cg_cross_entropy(logits, frac_labels, &(cg_loss_options){.reduction = CG_REDUCTION_SUM})));
    CASE(CG_ERR_ARG, "cross_entropy: target[1] = nan is not a class index", T(cg_cross_entropy(logits, nan_labels, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: target[0] = inf is not a class index", T(cg_cross_entropy(logits, inf_labels, &(cg_loss_options){.reduction = CG_REDUCTION_NONE})));
    CASE(CG_ERR_SHAPE, "cross_entropy: target [3] does not fit", T(cg_cross_entropy(logits, v3, NULL)));
    CASE(CG_ERR_SHAPE, "cross_entropy: target [2] does not fit logits [2,3,8,8]", T(cg_cross_entropy(img, labels, NULL)));
    CASE(CG_ERR_ARG, "cross_entropy: unknown reduction 99", T(cg_cross_entropy(logits, labels, &(cg_loss_options){.reduction = (cg_reduction)99})));
    CASE(CG_ERR_ARG, "nll_loss: target[1] = 3 is not a class index in [0, 3)", T(cg_nll_loss(logits, big_labels, NULL)));
    CASE(CG_ERR_ARG, "nll_loss: target[1] = nan", T(cg_nll_loss(logits, nan_labels, NULL)));
    CASE(CG_ERR_SHAPE, "mse_loss: input [2,3] and target [4,5] must have the same shape", T(cg_mse_loss(a23, b45, NULL)));
    CASE(CG_ERR_ARG, "mse_loss: argument", T(cg_mse_loss(a23, NULL, NULL)));
    CASE(CG_ERR_ARG, "mse_loss: unknown reduction -1", T(cg_mse_loss(a23, a23, &(cg_loss_options){.reduction = (cg_reduction)-1})));
    CASE(CG_ERR_SHAPE, "binary_cross_entropy_with_logits: input [2,3] and target [3]", T(cg_binary_cross_entropy_with_logits(a23, v3, NULL)));
    // ---- autograd
    CASE(CG_ERR_ARG, "backward: argument", I(cg_backward(NULL)));
    CASE(CG_ERR_SHAPE, "backward: ", I(cg_backward(cg_mul_scalar(grad_x, 2))));
    CASE(CG_ERR_STATE, "backward: ", I(double_backward()));
    CASE(CG_ERR_STATE, "backward: ", I(cg_backward(cg_sum(a23, 0, NULL, false))));
    CASE(CG_ERR_SHAPE, "backward: gradient shape [4,5] does not match tensor shape [3]", I(cg_backward_ex(cg_mul_scalar(grad_x, 2), b45, false)));
    CASE(CG_ERR_STATE, "requires_grad: cannot turn off requires_grad of a non-leaf", T(cg_requires_grad(cg_mul_scalar(grad_x, 2), false)));
    CASE(CG_ERR_ARG, "graph_save_dot: argument 'tensor' is NULL", I(cg_graph_save_dot(NULL, saved_path)));
    CASE(CG_ERR_IO, "graph_save_dot: cannot open", I(cg_graph_save_dot(a23, missing_path)));
    // ---- modules
    CASE(CG_ERR_ARG, "Linear: in_features -1 and out_features 2 must be >= 0", T(cg_Linear(-1, 2, NULL)));
    CASE(CG_ERR_ARG, "Conv2d: ", T(cg_Conv2d(0, 4, 3, NULL)));
    CASE(CG_ERR_ARG, "Conv2d: kernel_size must be positive", T(cg_Conv2d(3, 4, -3, NULL)));
    CASE(CG_ERR_ARG, "Conv2d: kernel_size must be positive",
         T(cg_Conv2d(3, 4, 0, &(cg_conv_options){.kernel_size_hw = {3, -1}})));
    CASE(CG_ERR_ARG, "Conv1d: kernel_size_hw=(3, 3) is a 2-D option",
         T(cg_Conv1d(3, 4, 3, &(cg_conv_options){.kernel_size_hw = {3, 3}})));
    CASE(CG_ERR_ARG, "conv2d: kernel_size_hw=(3, 3) is a module option",
         T(cg_conv2d(img, w433, NULL, &(cg_conv_options){.kernel_size_hw = {3, 3}})));
    CASE(CG_ERR_SHAPE, "Conv2d: weight shape [1073741824,1073741824,3,3] has more than 2^58 elements", T(cg_Conv2d(1 << 30, 1 << 30, 3, NULL)));
    CASE(CG_ERR_ARG, "Conv2d: ", T(cg_Conv2d(3, 4, 3, &groups2)));
    CASE(CG_ERR_ARG, "ConvTranspose2d: ", T(cg_ConvTranspose2d(3, 4, 0, NULL)));
    CASE(CG_ERR_ARG, "Conv1d: ", T(cg_Conv1d(3, -4, 3, NULL)));
    CASE(CG_ERR_ARG, "module_forward: module is NULL", T(cg_module_forward(NULL, a23)));
    CASE(CG_ERR_ARG, "Linear: argument 'input' is NULL", T(cg_module_forward(lin, NULL)));
    CASE(CG_ERR_SHAPE, "linear", T(cg_module_forward(lin, b45)));
    CASE(CG_ERR_SHAPE, "conv2d: ", T(cg_module_forward(conv, a23)));
    CASE(CG_ERR_ARG, "Sequential: module 1 is NULL (its constructor failed)", T(cg_Sequential(2, (cg_module *[]){cg_ReLU(), NULL})));
    CASE(CG_ERR_ARG, "Sequential: ", T(cg_Sequential(-1, NULL)));
    CASE(CG_ERR_ARG, "Dropout: ", T(cg_Dropout(&(cg_dropout_options){.p = CG_SET(2.0)})));
    CASE(CG_ERR_ARG, "BatchNorm2d: ", T(cg_BatchNorm2d(0, NULL)));
    CASE(CG_ERR_ARG, "MaxPool2d: ", T(cg_MaxPool2d(&k_neg)));
    CASE(CG_ERR_ARG, "AdaptiveAvgPool2d: ", T(cg_AdaptiveAvgPool2d(0, 0)));
    CASE(CG_ERR_ARG, "flatten: dim 3 out of range for a 2-d tensor", T(flatten_out_of_range()));
    CASE(CG_ERR_STATE, "Many: more than 8 parameters", T(too_many_params()));
    CASE(CG_ERR_ARG, "module_new: class is NULL", T(cg_module_new(NULL, NULL, 0)));
    CASE(CG_ERR_ARG, "module_summary: needs a module", I(cg_module_summary(lin, 2, NULL, stdout)));
    // ---- optimizers
    CASE(CG_ERR_ARG, "SGD: got an empty parameter list", T(cg_sgd(0, NULL, &(cg_sgd_options){.lr = CG_SET(0.1)})));
    CASE(CG_ERR_ARG, "SGD: parameter 0 is NULL", T(cg_sgd(1, (cg_tensor *[]){NULL}, &(cg_sgd_options){.lr = CG_SET(0.1)})));
    CASE(CG_ERR_ARG, "SGD: invalid learning rate lr=-1", T(cg_sgd(1, &grad_x, &(cg_sgd_options){.lr = CG_SET(-1)})));
    CASE(CG_ERR_ARG, "SGD: invalid learning rate lr=nan", T(cg_sgd(1, &grad_x, &(cg_sgd_options){.lr = CG_SET(NAN)})));
    CASE(CG_ERR_ARG, "SGD: nesterov", T(cg_sgd(1, &grad_x, &(cg_sgd_options){.lr = CG_SET(0.1), .nesterov = true})));
    CASE(CG_ERR_ARG, "SGD: ", T(cg_sgd(1, &grad_x, &(cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(-1)})));
    CASE(CG_ERR_ARG, "Adam: invalid learning rate lr=-0.5", T(cg_adam(1, &grad_x, &(cg_adam_options){.lr = CG_SET(-0.5)})));
    CASE(CG_ERR_ARG, "Adam: ", T(cg_adam(1, &grad_x, &(cg_adam_options){.lr = CG_SET(0.1), .betas = {CG_SET(1.5), CG_SET(0.999)}})));
    CASE(CG_ERR_ARG, "Adam: ", T(cg_adam(1, &grad_x, &(cg_adam_options){.lr = CG_SET(0.1), .eps = CG_SET(-1)})));
    CASE(CG_ERR_ARG, "AdamW: ", T(cg_adamw(1, &grad_x, &(cg_adam_options){.lr = CG_SET(0.1), .weight_decay = CG_SET(-1)})));
    CASE(CG_ERR_ARG, "optimizer_step: optimizer is NULL", I(cg_optimizer_step(NULL)));
    CASE(CG_ERR_SHAPE, "SGD: parameter 0 has shape [3] but its grad has shape [4]", I(step_with_bad_grad()));
    CASE(CG_ERR_ARG, "optimizer_set_lr: optimizer is NULL", V(cg_optimizer_set_lr(NULL, 0.1)));
    CASE(CG_ERR_ARG, "SGD: lr is required", T(cg_sgd(1, &grad_x, NULL)));
    CASE(CG_ERR_ARG, "SGD: model is NULL", T(cg_sgd_for(NULL, &(cg_sgd_options){.lr = CG_SET(0.1)})));
    CASE(CG_ERR_ARG, "Adam: got an empty parameter list", T(adam_for_no_params()));
    // ---- data loaders
    CASE(CG_ERR_ARG, "dataloader: argument 'x' is NULL", T(cg_dataloader_new(NULL, NULL, 4, false, 0)));
    CASE(CG_ERR_ARG, "dataloader: batch must be >= 1, got 0", T(cg_dataloader_new(a23, NULL, 0, false, 0)));
    CASE(CG_ERR_ARG, "dataloader: batch must be >= 1, got -5", T(cg_dataloader_new(a23, NULL, -5, false, 0)));
    CASE(CG_ERR_SHAPE, "dataloader: x [2,3] and y [3] have different numbers of rows", T(loader_rows_mismatch()));
    CASE(CG_ERR_SHAPE, "dataloader: x must have a batch dim, got []", T(cg_dataloader_new(s0, NULL, 1, false, 0)));
    CASE(CG_ERR_SHAPE, "dataloader: the dataset is empty (x of shape [0])", T(cg_dataloader_new(e0, NULL, 1, false, 0)));
    CASE(CG_ERR_ARG, "dataloader_next: loader is NULL", B(cg_dataloader_next(NULL, NULL, NULL)));
    CASE(CG_ERR_ARG, "dataloader: normalisation std must be > 0, got 0", I(normalize_with_zero_std()));
    CASE(CG_ERR_ARG, "dataloader_set_normalize: loader is NULL", I(cg_dataloader_set_normalize(NULL, 0, 1)));
    CASE(CG_ERR_ARG, "dataloader: bad byte dataset (x NULL", T(cg_dataloader_new_bytes(NULL, 4, CG_SHAPE(2), 1, NULL, 1, false, 0)));
    CASE(CG_ERR_ARG, "dataloader: bad byte dataset (x set, n -4", T(cg_dataloader_new_bytes((const uint8_t *)"abcd", -4, CG_SHAPE(1), 1, NULL, 1, false, 0)));
    CASE(CG_ERR_ARG, "dataloader: set_state: loader or state is NULL", I(set_bad_loader_state()));
    // ---- files
    CASE(CG_ERR_ARG, "idx: path is NULL", T(cg_idx_load(NULL)));
    CASE(CG_ERR_IO, "idx: cannot open", T(cg_idx_load(missing_path)));
    CASE(CG_ERR_IO, "bad_calls_dir: Is a directory", T(cg_idx_load(dir_path)));
    CASE(CG_ERR_FORMAT, "idx: ", T(cg_idx_load(garbage_path)));
    CASE(CG_ERR_FORMAT, "idx: ", T(cg_idx_load(saved_path)));
    CASE(CG_ERR_ARG, "mnist: dir is NULL", I(load_mnist(NULL)));
    CASE(CG_ERR_IO, "mnist: no train-images", I(load_mnist(dir_path)));
    CASE(CG_ERR_ARG, "mnist: out is NULL", I(cg_mnist_load(dir_path, true, NULL)));
    CASE(CG_ERR_ARG, "safetensors: path is NULL", I(load_safetensors(NULL)));
    CASE(CG_ERR_IO, "safetensors: cannot open", I(load_safetensors(missing_path)));
    CASE(CG_ERR_IO, "safetensors: cannot open", I(load_safetensors(dir_path)));
    CASE(CG_ERR_FORMAT, "safetensors: ", I(load_safetensors(garbage_path)));
    CASE(CG_ERR_ARG, "safetensors: out is NULL", I(cg_safetensors_load(saved_path, NULL)));
    CASE(CG_ERR_ARG, "safetensors_save: path is NULL", I(cg_safetensors_save(NULL, &(cg_tensor_list){0, NULL}, 0, NULL, NULL)));
    CASE(CG_ERR_ARG, "safetensors_save: tensors is NULL", I(cg_safetensors_save(saved_path, NULL, 0, NULL, NULL)));
    CASE(CG_ERR_ARG, "safetensors_save: n_meta is negative (n_meta -1)", I(cg_safetensors_save(saved_path, &(cg_tensor_list){0, NULL}, -1, NULL, NULL)));
    CASE(CG_ERR_ARG, "safetensors_save: metadata arrays are NULL (n_meta 2)", I(cg_safetensors_save(saved_path, &(cg_tensor_list){0, NULL}, 2, NULL, NULL)));
    CASE(CG_ERR_ARG, "safetensors_save: two tensors are called 'w'", I(save_duplicate_names()));
    CASE(CG_ERR_ARG, "safetensors_save: tensor 'w' is NULL", I(save_null_tensor()));
    CASE(CG_ERR_IO, "safetensors_save: cannot create a temporary file next to", I(save_into_missing_dir()));
    CASE(CG_ERR_ARG, "module_save: ", I(cg_module_save(saved_path, NULL)));
    CASE(CG_ERR_IO, "cannot create a temporary file", I(cg_module_save(missing_path, lin)));
    CASE(CG_ERR_IO, "cannot open", I(cg_module_load(missing_path, lin)));
    CASE(CG_ERR_SHAPE, "mis-shaped: weight (file [2,3], model [2,4])", I(load_into_wrong_model()));
    CASE(CG_ERR_ARG, "module_load: ", I(cg_module_load(saved_path, NULL)));
    CASE(CG_ERR_ARG, "checkpoint_save: ", I(cg_checkpoint_save(saved_path, NULL, NULL, NULL)));
    CASE(CG_ERR_IO, "cannot open", I(cg_checkpoint_load(missing_path, lin, NULL, NULL)));
    CASE(CG_ERR_ARG, "checkpoint_load: ", I(cg_checkpoint_load(saved_path, NULL, NULL, NULL)));
    CASE(CG_ERR_ARG, "image: path is NULL", T(cg_image_load_gray(NULL)));
    CASE(CG_ERR_IO, "image: cannot open", T(cg_image_load_gray(missing_path)));
    CASE(CG_ERR_IO, "is a directory", T(cg_image_load_gray(dir_path)));
    CASE(CG_ERR_FORMAT, "image: cannot decode", T(cg_image_load_gray(garbage_path)));
    CASE(CG_ERR_FORMAT, "image: cannot decode", T(cg_image_load_mnist(saved_path, NULL)));
    CASE(CG_ERR_SHAPE, "image_prepare: image must be (H,W) or (1,1,H,W), got [3]", T(cg_image_prepare_mnist(v3, NULL)));
    CASE(CG_ERR_ARG, "image_prepare: need 1 <= box (40) <= size (28)", T(cg_image_prepare_mnist(a23, &(cg_image_options){.box = 40})));
    CASE(CG_ERR_ARG, "image_save_grid: argument 'images' is NULL", I(cg_image_save_grid(saved_path, NULL, 0, 1)));
    CASE(CG_ERR_SHAPE, "image_save_grid: images must be (N,C,H,W) or (H,W), got [3]", I(cg_image_save_grid(saved_path, v3, 0, 1)));
    CASE(CG_ERR_ARG, "image_save_grid: a ", I(cg_image_save_grid(saved_path, cg_ones(CG_SHAPE(1, 1, 100, 100)), 0, 500)));
    CASE(CG_ERR_IO, "image_save_grid: cannot create a temporary file", I(cg_image_save_grid(missing_path, a23, 0, 1)));
    // ---- size products that wrap around (issue 22, class 1)
    CASE(CG_ERR_SHAPE, "reshape: shape [7,7905747460161236407] is invalid: integer multiplication overflow", T(cg_reshape(s0, CG_SHAPE(7, INT64_C(7905747460161236407)))));
    CASE(CG_ERR_SHAPE, "reshape: shape [-1,7,7905747460161236407] is invalid: integer multiplication overflow", T(cg_view(s0, CG_SHAPE(-1, 7, INT64_C(7905747460161236407)))));
    CASE(CG_ERR_ARG, "reshape: argument 'shape' is NULL for 2 dims", T(cg_reshape(a23, 2, NULL)));
    CASE(CG_ERR_SHAPE, "Unflatten: unflattened_size [7,7905747460161236407] is invalid: integer multiplication overflow", T(cg_Unflatten(0, CG_SHAPE(7, INT64_C(7905747460161236407)))));
    CASE(CG_ERR_SHAPE, "empty: shape [0,1099511627776,1099511627776] has more than 2^58 elements", T(cg_empty(CG_SHAPE(0, INT64_C(1) << 40, INT64_C(1) << 40))));
    CASE(CG_ERR_SHAPE, "add: shapes [0,1099511627776,1] and [0,1,1099511627776] broadcast to [0,1099511627776,1099511627776], more than 2^58 elements", T(cg_add(cg_empty(CG_SHAPE(0, INT64_C(1) << 40, 1)), cg_empty(CG_SHAPE(0, 1, INT64_C(1) << 40)))));
    CASE(CG_ERR_SHAPE, "dataloader: x shape [2,7,7905747460161236407] is invalid: integer multiplication overflow", T(cg_dataloader_new_bytes((const uint8_t *)"ab", 2, CG_SHAPE(7, INT64_C(7905747460161236407)), 1, NULL, 1, false, 0)));
    CASE(CG_ERR_SHAPE, "dataloader: sample size -5 of x [2,-5] is negative", T(cg_dataloader_new_bytes((const uint8_t *)"ab", 2, CG_SHAPE(-5), 1, NULL, 1, false, 0)));
    CASE(CG_ERR_ARG, "dataloader: byte scale must be finite, got nan", T(cg_dataloader_new_bytes((const uint8_t *)"ab", 2, CG_SHAPE(1), NAN, NULL, 1, false, 0)));
    CASE(CG_ERR_SHAPE, "conv2d: sizes overflow (integer multiplication overflow) with padding (top, bottom, left, right) (2147483647, 2147483647, 2147483647, 2147483647)", T(cg_conv2d(img, w433, NULL, &pad_max)));
    CASE(CG_ERR_SHAPE, "Linear: weight shape [2147483647,2147483647] has more than 2^58", T(cg_Linear(INT_MAX, INT_MAX, NULL)));
    CASE(CG_ERR_SHAPE, "pad: output shape [0,268435456,4563402750] has more than 2^58 elements", T(cg_pad(cg_empty(CG_SHAPE(0, INT64_C(1) << 28, INT64_C(1) << 28)), 2, (int[]){INT_MAX, INT_MAX}, CG_PAD_ZEROS, 0)));
    CASE(CG_ERR_SHAPE, "cat: output shape [0,1073741824,536870912] has more than 2^58", T(cg_cat(2, (cg_tensor *[]){cg_empty(CG_SHAPE(0, INT64_C(1) << 29, INT64_C(1) << 29)), cg_empty(CG_SHAPE(0, INT64_C(1) << 29, INT64_C(1) << 29))}, 1)));
    // ---- image headers: limits on absolute values, for every format (class 2)
    CASE(CG_ERR_FORMAT, "BMP header says 16384x16384 pixels, beyond the limits for a 54-byte file", T(cg_image_load_gray(REGRESSION("bmp-top-down-huge"))));
    CASE(CG_ERR_FORMAT, "BMP header says 4x2147483648 pixels", T(cg_image_load_gray(REGRESSION("bmp-height-int-min"))));
    CASE(CG_ERR_FORMAT, "PNG header says 100000x1 pixels", T(cg_image_load_mnist(REGRESSION("png-wide-header"), NULL)));
    CASE(CG_ERR_FORMAT, "JPEG header says 60000x60000 pixels", T(cg_image_load_gray(REGRESSION("jpeg-huge-frame"))));
    // ---- degenerate floating options (class 3)
    CASE(CG_ERR_ARG, "interpolate: scale_factor nan must be finite and > 0", T(cg_interpolate(img, &(cg_interpolate_options){.scale_factor = NAN})));
    CASE(CG_ERR_ARG, "interpolate: scale_factor inf must be finite and > 0", T(cg_interpolate(img, &(cg_interpolate_options){.scale_factor = INFINITY})));
    CASE(CG_ERR_ARG, "interpolate: scale_factor 1e+30 of input [2,3,8,8] gives output size 8000000000000000159076998709248, outside [1, 2147483647]", T(cg_interpolate(img, &(cg_interpolate_options){.scale_factor = 1e30})));
    CASE(CG_ERR_ARG, "interpolate: scale_factor_hw[1] nan must be finite and > 0", T(cg_interpolate(img, &(cg_interpolate_options){.scale_factor_hw = {2, NAN}})));
    CASE(CG_ERR_ARG, "interpolate: size_hw/scale_factor_hw is for a 4-D (N, C, H, W) input; an input with 1 spatial dim reads the scalar size or scale_factor", T(cg_interpolate(cg_ones(CG_SHAPE(2, 3, 8)), &(cg_interpolate_options){.size_hw = {4, 4}})));
    CASE(CG_ERR_ARG, "batch_norm2d: eps (nan) must be finite and >= 0", T(cg_batch_norm2d(img, NULL, NULL, NULL, NULL, true, 0.1f, NAN)));
    CASE(CG_ERR_ARG, "batch_norm2d: eps (-1) must be finite and >= 0", T(cg_batch_norm2d(img, NULL, NULL, NULL, NULL, true, 0.1f, -1)));
    CASE(CG_ERR_ARG, "momentum (inf) finite", T(cg_batch_norm2d(img, cg_zeros(CG_SHAPE(3)), cg_ones(CG_SHAPE(3)), NULL, NULL, true, INFINITY, 1e-5f)));
    // ---- silent acceptance where PyTorch refuses (class 6), unclear messages (7), refusals (8)
    CASE(CG_ERR_ARG, "cross_entropy: ignore_index is not supported for floating point target (ignore_index=1 with probability targets of shape [2,3])", T(cg_cross_entropy(logits, a23, &(cg_loss_options){.ignore_index = CG_SET(1)})));
    CASE(CG_ERR_ARG, "cross_entropy: ignore_index=inf is not a whole number", T(cg_cross_entropy(logits, labels, &(cg_loss_options){.ignore_index = CG_SET(INFINITY)})));
    CASE(CG_ERR_SHAPE, "group_norm: expected more than 1 value per group, got input [1,4] with num_groups 4", T(cg_group_norm(cg_ones(CG_SHAPE(1, 4)), 4, NULL, NULL, 1e-5f)));
    CASE(CG_ERR_ARG, "max_pool1d: the _hw pairs are for 2-D pools", T(cg_max_pool1d(cg_ones(CG_SHAPE(2, 3, 8)), &(cg_pool_options){.kernel_size = 2, .kernel_size_hw = {2, 2}})));
    CASE(CG_ERR_SHAPE, "max_pool1d: input [2,3,2] of length 2 is too short for kernel_size 5 (dilation 1, padding 0): the output length would be 0", T(cg_max_pool1d(cg_ones(CG_SHAPE(2, 3, 2)), &(cg_pool_options){.kernel_size = 5})));
    CASE(CG_ERR_SHAPE, "avg_pool1d: input [3,2] of length 2 is too short", T(cg_avg_pool1d(cg_ones(CG_SHAPE(3, 2)), &(cg_pool_options){.kernel_size = 3})));
    CASE(CG_ERR_ARG, "adaptive_avg_pool1d: output_size 0 must be > 0 (cgrad does not support an empty output", T(cg_adaptive_avg_pool1d(cg_ones(CG_SHAPE(2, 3, 8)), 0)));
    CASE(CG_ERR_SHAPE, "max: input of shape [0,3] is empty along dim 0", T(cg_max(cg_empty(CG_SHAPE(0, 3)), 0, false)));
    CASE(CG_ERR_SHAPE, "xavier_uniform_: fan in and fan out can not be computed for a tensor of shape [3] (fewer than 2 dimensions)", T(cg_init_xavier_uniform_(v3, 1, NULL)));
    CASE(CG_ERR_SHAPE, "kaiming_uniform_: fan in and fan out can not be computed for a tensor of shape [3]", T(cg_init_kaiming_uniform_(v3, 0, NULL)));
    CASE(CG_ERR_ARG, "dataloader: set_state: world size -2 is negative", I(loader_state_negative_world()));
    CASE(CG_ERR_ARG, "image_prepare: crop_threshold nan is not in [0, 1)", T(cg_image_prepare_mnist(a23, &(cg_image_options){.crop_threshold = NAN})));
    CASE(CG_ERR_ARG, "image_prepare: crop_threshold 2 is not in [0, 1)", T(cg_image_prepare_mnist(a23, &(cg_image_options){.crop_threshold = 2})));
    CASE(CG_ERR_ARG, "image_prepare: invert 7 is not a cg_image_invert", T(cg_image_prepare_mnist(a23, &(cg_image_options){.invert = (cg_image_invert)7})));
    CASE(CG_ERR_ARG, "image_save_grid: columns (-1) and scale (0) must be >= 0", I(cg_image_save_grid_ex(saved_path, a23, &(cg_grid_options){.columns = -1})));
    CASE(CG_ERR_ARG, "image_save_grid: columns (0) and scale (-2) must be >= 0", I(cg_image_save_grid(saved_path, a23, 0, -2)));
    CASE(CG_ERR_ARG, "module_num_parameters: argument 'm' is NULL", I(cg_module_num_parameters(NULL)));
    CASE(CG_ERR_ARG, "module_get: argument 'path' is NULL", T(cg_module_get(lin, NULL)));
    CASE(CG_ERR_ARG, "module_add_param: argument 'm' is NULL", T(cg_module_add_param(NULL, "w", cg_ones(CG_SHAPE(2)))));
    CASE(CG_ERR_ARG, "gradcheck: argument 'fn' is NULL", B(cg_gradcheck(NULL, NULL, 1, &grad_x, NULL).ok));
    CASE(CG_ERR_ARG, "option_hw: argument 'out' is NULL", V(cg_option_hw(3, NULL, 1, 1, NULL)));
    CASE(CG_ERR_ARG, "dataloader_num_batches: argument 'dl' is NULL", I(cg_dataloader_num_batches(NULL)));
    CASE(CG_ERR_ARG, "evaluate: the loader has no labels (made with y NULL)", I(evaluate_without_labels()));
    CASE(CG_ERR_FORMAT, "bad JSON header: expected", I(load_bad_json_header()));
    CASE(CG_ERR_FORMAT, "near \"", I(load_bad_json_header()));
    CASE(CG_ERR_STATE, "dist: barrier: called before cg_dist_init", I(cg_dist_barrier()));
    CASE(CG_ERR_STATE, "dist: broadcast: called before cg_dist_init", I(cg_dist_broadcast_module(lin)));
    CASE(CG_ERR_ARG, "dist: all-reduce: count -1 is negative", I(dist_negative_count()));
    CASE(CG_ERR_ARG, "dist: set_timeout: nan seconds must be finite and > 0", V(cg_dist_set_timeout(NAN)));
    CASE(CG_ERR_ARG, "dist: set_timeout: -5 seconds", V(cg_dist_set_timeout(-5)));
    CASE(CG_ERR_STATE, "dist: init: already initialised", I(dist_twice_init()));
    CASE(CG_ERR_STATE, "dist: barrier: called after cg_dist_finalize", I(dist_after_finalize()));
    CASE(CG_ERR_STATE, "dist: init: called after cg_dist_finalize", I(dist_twice_init()));
    // clang-format on
    cg_module_free(lin);
    cg_module_free(conv);
    cg_scope_end();
    printf("bad calls: %d cases, %d wrong\n", tl.cases, tl.bad);
    if (tl.bad) {
        fputs(tl.report, stdout); // cmocka truncates long failure messages
        fail_msg("%d of %d bad calls were not refused clearly (listed above)", tl.bad, tl.cases);
    }
    assert_true(tl.cases >= 150);
}

// ---- the generated walk: every public function, NULL for each pointer argument ------------
// tests/support/null_walk.h: one case per (function, pointer argument) with NULL there, and
// per (int n, const int64_t *sizes) pair the shapes [0, 3] and [7, 7905747460161236407].
// NULL is accepted without an error where the headers document it as optional:
//  - by rule: options (NULL = PyTorch's defaults, tensor/options.h), a cg_rng * (the global
//    generator), a void * (the caller's context), and destructors (cg_free, cg_dealloc and
//    every *_free: "NULL is fine");
//  - these arguments, each documented where it is declared:
static const char *const nw_optional[] = {"cg_alloc_set_op:op",
                                          "cg_free_consumed",             // NULL t: nothing to free
                                          "cg_sample_clear:s",            // as a free
                                          "cg_metrics_close:m",           // as a free
                                          "cg_tensor_dataset_new:labels", // no labels: -1
                                          "cg_bytes_dataset_new:labels",
                                          "cg_loader_next:y", // labels not wanted
                                          "cg_error_set_context:context",
                                          "cg_set_grad_ready_hook:fn",
                                          "cg_print:t",
                                          "cg_fprint:t",
                                          "cg_tensor_shape_str:t",
                                          "cg_keep:t",
                                          "cg_unscope:t",
                                          "cg_set_grad:grad",
                                          "cg_record:out",
                                          "cg_node_save:n",
                                          "cg_node_set_ctx:n",
                                          "cg_linear:bias",
                                          "cg_conv2d:bias",
                                          "cg_conv2d_relu:bias",
                                          "cg_conv2d_direct:bias",
                                          "cg_conv_transpose2d:bias",
                                          "cg_conv1d:bias",
                                          "cg_conv_transpose1d:bias",
                                          "cg_batch_norm2d:running_mean",
                                          "cg_batch_norm2d:running_var",
                                          "cg_batch_norm2d:weight",
                                          "cg_batch_norm2d:bias",
                                          "cg_batch_norm1d:running_mean",
                                          "cg_batch_norm1d:running_var",
                                          "cg_batch_norm1d:weight",
                                          "cg_batch_norm1d:bias",
                                          "cg_instance_norm:running_mean",
                                          "cg_instance_norm:running_var",
                                          "cg_instance_norm:weight",
                                          "cg_instance_norm:bias",
                                          "cg_group_norm:weight",
                                          "cg_group_norm:bias",
                                          "cg_layer_norm:weight",
                                          "cg_layer_norm:bias",
                                          "cg_adaptive_max_pool2d_with_indices:indices",
                                          "cg_init_default_:bias",
                                          "cg_module_add_param:t",
                                          "cg_module_add_buffer:t",
                                          "cg_module_add_child:child",
                                          "cg_module_pairs:m",
                                          "cg_module_pairs:next",
                                          "cg_module_forward_pair:next",
                                          "cg_dataloader_new:y",
                                          "cg_dataloader_new_bytes:y",
                                          "cg_dataloader_next:x",
                                          "cg_dataloader_next:y",
                                          "cg_checkpoint_save:opt",
                                          "cg_checkpoint_save:meta",
                                          "cg_checkpoint_load:opt",
                                          "cg_checkpoint_load:meta",
                                          "cg_dist_checkpoint_save:opt",
                                          "cg_dist_checkpoint_save:meta",
                                          "cg_dist_checkpoint_load:opt",
                                          "cg_dist_checkpoint_load:meta",
                                          "cg_module_load_ex:report",
                                          "cg_progress_begin_mode:out",
                                          "cg_progress_begin_mode:label",
                                          "cg_progress_step:metrics",
                                          "cg_progress_end:metrics",
                                          "cg_dist_init:argc",
                                          "cg_dist_init:argv",
                                          "cg_sequential_lr:milestones",
                                          "cg_MaxUnpool2d_forward:indices",
                                          "cg_option_hw:hw",
                                          NULL};

// Documented as required and not checked (the op authors' API and the hot paths:
// tensor/tensor.h's argument helpers, tensor/parallel.h, kernels/gemm.h, autograd/op.h):
// NULL there is a programming error, so the walk does not pass it.
static const char *const nw_required[] = {"cg_broadcast_shapes",
                                          "cg_broadcast_strides",
                                          "cg_sum_to_shape",
                                          "cg_tuple_str",
                                          "cg_shape_str",
                                          "cg_check_arg",
                                          "cg_check_ptr",
                                          "cg_normalize_dim",
                                          "cg_parallel_parts",
                                          "cg_parallel_for",
                                          "cg_gemm",
                                          "cg_gemm_reference",
                                          "cg_gemm_implicit_b",
                                          "cg_record",
                                          "cg_needs_grad",
                                          "cg_node_save",
                                          "cg_node_set_ctx",
                                          "cg_node_release",
                                          "cg_grad_buffer",
                                          "cg_accumulate_grad",
                                          "cg_accumulate_grad_data",
                                          "cg_conv_options_pairs",
                                          "cg_conv_kernel_size",
                                          "cg_activation_resolve",
                                          "cg_activation_options_repr",
                                          NULL};

// Functions the walk found accepting NULL silently, to be fixed (remove an entry once it
// refuses NULL; the list is empty when there are none).
static const char *const nw_known[] = {NULL};

static bool nw_listed(const char *const *list, const nw_case *c) {
    char key[128];
    snprintf(key, sizeof key, "%s:%s", c->function, c->arg);
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], key) == 0 || strcmp(list[i], c->function) == 0) return true;
    return false;
}

static bool nw_null_allowed(const nw_case *c) {
    size_t n = strlen(c->type), f = strlen(c->function);
    bool options = n > 10 && strcmp(c->type + n - 10, "_options *") == 0;
    bool destructor = (f > 5 && strcmp(c->function + f - 5, "_free") == 0) ||
                      strcmp(c->function, "cg_free") == 0 || strcmp(c->function, "cg_dealloc") == 0;
    return options || destructor || strcmp(c->type, "cg_rng *") == 0 ||
           strcmp(c->type, "void *") == 0 || nw_listed(nw_optional, c);
}

// One case, run in a child process so that a crash is reported with its case and the walk
// goes on: the verdict ("" if fine) is written to fd.
static void nw_run_case(const nw_case *c, int fd) {
    const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}; // not cmocka's handlers
    for (int i = 0; i < 5; i++) signal(fatal[i], SIG_DFL);
    cg_scope_begin();
    cg_clear_error();
    c->call();
    cg_status got = cg_last_error();
    char msg[512], verdict[1024] = "";
    snprintf(msg, sizeof msg, "%s", cg_last_error_message());
    nw_free_owned();
    cg_scope_end();
    const char *why = NULL;
    if (c->kind == NW_NULL && got == CG_OK && !nw_null_allowed(c))
        why = "accepted NULL without an error";
    else if (got != CG_OK && !strchr(msg, ':'))
        why = "refused with a message that names no op";
    else if (c->kind == NW_OVERFLOW && got == CG_OK)
        why = "accepted a shape whose product overflows";
    if (why) snprintf(verdict, sizeof verdict, "%s (\"%s\")", why, msg);
    if (getenv("CG_BAD_CALLS_VERBOSE"))
        printf("%s(%s) kind %d: %s\n", c->function, c->arg, c->kind, msg);
    if (write(fd, verdict, strlen(verdict)) < 0) _exit(3);
}

static void test_generated_walk(void **state) {
    (void)state;
    int n = nw_n_cases, bad = 0;
    static char report[65536];
    size_t used = 0;
    int skipped = 0;
    for (int i = 0; i < n; i++) {
        const nw_case *c = &nw_cases[i];
        if (nw_listed(nw_required, c) || nw_listed(nw_known, c)) { // they assume valid shapes
            skipped++;
            continue;
        }
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(stdout);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            nw_run_case(c, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        char verdict[1024];
        ssize_t got = read(fds[0], verdict, sizeof verdict - 1);
        close(fds[0]);
        verdict[got > 0 ? got : 0] = '\0';
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status))
            snprintf(verdict, sizeof verdict, "crashed (signal %d)", WTERMSIG(status));
        else if (WEXITSTATUS(status) != 0)
            snprintf(verdict, sizeof verdict, "exited with status %d (a sanitizer report?)",
                     WEXITSTATUS(status));
        if (verdict[0]) {
            bad++;
            const char *value = c->kind == NW_NULL   ? "NULL"
                                : c->kind == NW_ZERO ? "[0,3]"
                                                     : "[7,7905747460161236407]";
            used += (size_t)snprintf(report + used, sizeof report - used, "%s(%s = %s): %s\n",
                                     c->function, c->arg, value, verdict);
            if (used >= sizeof report) used = sizeof report - 1;
        }
    }
    printf("generated walk: %d calls (%d not made: required or known), %d wrong\n", n, skipped,
           bad);
    if (bad) {
        fputs(report, stdout);
        fail_msg("%d of %d generated calls were not refused clearly (listed above)", bad, n);
    }
    assert_true(n >= 500);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_generated_walk),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("bad_calls", tests, NULL, NULL);
}
