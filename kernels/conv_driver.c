// kernels/conv_driver.c - the one convolution driver: every direction, every strategy.
//
// A convolution is a GEMM between the weight (O, K) per group and the column matrix
// (K = C/g*kH*kW rows, one column per output position) of the image:
//   FORWARD      columns = W x im2col(image)
//   TRANSPOSED   image = col2im(W^T x columns)
//   WEIGHT_GRAD  dweight += columns x im2col(image)^T
// How to run it is one strategy per call (cg_conv_strategy_of; the rules and their reasons
// are in kernels/conv_strategy.c):
//  - depthwise (groups == C): direct loops (conv_depthwise.c), no GEMM;
//  - Winograd F(2x2, 3x3) (conv_winograd.c) for 3x3 stride-1 convolutions wide enough to
//    pay;
//  - direct (conv_direct.c, AVX-512 CPUs): register-blocked loops over a padded,
//    stride-phase-split copy of each image, no column matrix;
//  - pointwise (1x1, stride 1, no padding): the image already is its column matrix, so
//    there is no im2col/col2im and no column buffer (threads split the work as below);
//  - implicit GEMM (forward only, conv_implicit.c): no column buffer either; the GEMM packs
//    its B slivers straight from the image, the weights are packed once per call and the
//    GEMM's columns are every image's positions side by side (threaded over them). Only
//    when forced, for now;
//  - image-parallel (at least as many images as threads): each thread takes whole images
//    (several side by side when they are small, a block of output rows at a time when they
//    are large), with its own slice of the workspace, serial GEMMs and no synchronisation;
//  - batched (fewer images than threads, e.g. batch 1): several images side by side in one
//    threaded GEMM (up to a workspace budget), the column side regrouped to (O, nb*P).
// This file lays out the GEMM strategies' workspace (conv_plan) and runs every strategy.
// The workspace is allocated once, on the calling thread, before any parallel region, so an
// allocation failure is reported where the caller can see it (errors are thread-local).
#include <math.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "conv_implicit.h"
#include "conv_kernels.h"
#include "elementwise.h"
#include "gemm.h"

// Column-buffer budget in floats (16 MB): how many images one batched GEMM may cover.
#define CONV_WORKSPACE_FLOATS ((int64_t)1 << 22)
// Image-parallel threads put images side by side until a GEMM is this many columns wide:
// one call per 14x14 image leaves the micro-kernel too little work per packed panel.
#define CONV_WIDE_COLUMNS 768
// The implicit path puts this many columns' worth of images in one block (and one GEMM per
// group), so its regrouped output stays in L2 for the copy to (N, O, P); a block of the
// whole batch (one weight packing per call) measured 1% slower on config b, 14% on d.
#define IMPLICIT_COLUMNS 768
// Per-thread column block in floats (4 MB) however large the image (64 channels, 3x3,
// 224x224 would be 115 MB); smaller blocks measured slower.
#define CONV_BLOCK_FLOATS ((int64_t)1 << 20)
// The implicit path's tap table (4 int32 per row of K), in whole cache lines: the GEMM's
// packed panels after it must stay 64-byte aligned.
#define TAP_FLOATS(K) ((4 * (K) + 15) / 16 * 16)

typedef struct conv_plan {
    cg_conv_direction direction;
    cg_conv_strategy strategy;
    // The layout of the GEMM strategies (pointwise, implicit, image-parallel, batched):
    bool pointwise;      // the image (C, H*W) is its own column matrix: no im2col
    bool image_parallel; // threads take whole images (serial GEMMs); else threaded GEMMs
    int slices;          // workspace slices: one per thread of the image loop, else 1
    int64_t images;      // images per block, side by side in one GEMM
    int64_t rows;        // output rows per block
    int64_t P, K, Og, image_size, col_size, weight_size;
    int64_t cols_floats, side_floats; // per slice: column buffer, regrouped column side
    int64_t implicit_floats;          // implicit: cg_gemm_implicit_b's workspace
} conv_plan;

static int64_t clamp64(int64_t x, int64_t lo, int64_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

// The implicit GEMM's blocks: as many images as make IMPLICIT_COLUMNS positions, halved
// until their offsets fit its int32 tap table (one image does: the strategy's rule).
static void implicit_layout(conv_plan *p, const cg_conv_geometry *g, int threads) {
    p->images = clamp64((IMPLICIT_COLUMNS + p->P - 1) / p->P, 1, g->batch);
    while (p->images > 1 && !cg_conv_implicit_fits(g, p->images)) p->images /= 2;
    int64_t last = g->batch % p->images; // a smaller last block may be threaded differently
    p->implicit_floats = cg_gemm_implicit_workspace(p->Og, p->images * p->P, p->K);
    if (last) {
        int64_t w = cg_gemm_implicit_workspace(p->Og, last * p->P, p->K);
        p->implicit_floats = w > p->implicit_floats ? w : p->implicit_floats;
    }
    p->side_floats = p->images > 1 ? (p->col_size * p->images + 15) / 16 * 16 : 0;
    int64_t blocks = (g->batch + p->images - 1) / p->images;
    p->slices = blocks >= threads ? threads : 1;
}

// im2col + GEMM (and pointwise): images per block, output rows per block, buffers.
static void gemm_layout(conv_plan *p, const cg_conv_geometry *g, int threads) {
    int64_t per_image = g->groups * p->K * p->P;
    if (p->pointwise || per_image == 0)
        p->images = 1;
    else if (p->image_parallel) // small images: a few side by side per thread, in L2
        p->images = clamp64(CONV_WIDE_COLUMNS / (p->P > 0 ? p->P : 1), 1,
                            clamp64(CONV_BLOCK_FLOATS / per_image, 1, g->batch / threads));
    else
        p->images = clamp64(CONV_WORKSPACE_FLOATS / per_image, 1, g->batch);
    int64_t per_row = g->groups * p->K * g->cols_w;
    p->rows = p->images > 1 || p->pointwise || per_row == 0
                  ? g->cols_h
                  : clamp64(CONV_BLOCK_FLOATS / per_row, 1, g->cols_h);
    p->cols_floats = p->pointwise ? 0 : g->groups * p->K * p->images * p->rows * g->cols_w;
    p->side_floats = p->images > 1 ? p->col_size * p->images : 0;
}

static conv_plan plan_of(cg_conv_direction direction, const cg_conv_geometry *g) {
    conv_plan p = {.direction = direction, .strategy = cg_conv_strategy_of(direction, g)};
    int threads = cg_num_threads();
    p.pointwise = p.strategy == CG_CONV_STRATEGY_POINTWISE;
    p.image_parallel = g->batch >= threads; // also how the pointwise strategy splits images
    p.slices = p.image_parallel ? threads : 1;
    p.P = g->cols_h * g->cols_w;
    p.K = cg_conv_col_rows(g);
    p.Og = g->cols_channels / g->groups;
    p.image_size = g->image_channels * g->image_h * g->image_w;
    p.col_size = g->cols_channels * p.P;
    p.weight_size = g->cols_channels * p.K;
    switch (p.strategy) {
    case CG_CONV_STRATEGY_DEPTHWISE:
    case CG_CONV_STRATEGY_WINOGRAD:
    case CG_CONV_STRATEGY_DIRECT:
        break; // their kernels lay out their own workspace
    case CG_CONV_STRATEGY_IMPLICIT_GEMM:
        implicit_layout(&p, g, threads);
        break;
    case CG_CONV_STRATEGY_POINTWISE:
    case CG_CONV_STRATEGY_IMAGE_PARALLEL:
    case CG_CONV_STRATEGY_BATCHED_GEMM:
        gemm_layout(&p, g, threads);
        break;
    }
    return p;
}

// (nb, O, P) <-> (O, nb*P)
static void gather_side(const float *src, float *dst, int64_t nb, int64_t O, int64_t P) {
    for (int64_t i = 0; i < nb; i++)
        for (int64_t o = 0; o < O; o++)
            memcpy(dst + o * nb * P + i * P, src + (i * O + o) * P, (size_t)P * sizeof(float));
}
static void scatter_side(const float *src, float *dst, int64_t nb, int64_t O, int64_t P) {
    for (int64_t i = 0; i < nb; i++)
        for (int64_t o = 0; o < O; o++)
            memcpy(dst + (i * O + o) * P, src + o * nb * P + i * P, (size_t)P * sizeof(float));
}

// One GEMM operand of a block: group gi's rows start at data + gi * group_stride.
typedef struct operand {
    float *data;
    int64_t ld, group_stride;
} operand;

// The block's images [n0, n0+nb) and output rows [oh0, oh1).
typedef struct block {
    int64_t n0, nb, oh0, oh1;
} block;

// The image side of a block as a GEMM operand (K rows per group): the image itself when
// pointwise, else the slice's column buffer (which im2col fills or col2im reads).
static operand image_side(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                          float *cols, block b) {
    int64_t cw = (b.oh1 - b.oh0) * g->cols_w;
    if (!p->pointwise) return (operand){cols, b.nb * cw, p->K * b.nb * cw};
    const float *image = p->direction == CG_CONV_TRANSPOSED ? x->out : x->image;
    return (operand){(float *)image + b.n0 * p->image_size + b.oh0 * g->cols_w, p->P, p->K * p->P};
}

// The column side (Og rows per group): the columns in place for one image, else the slice's
// regrouped (O, nb*P) copy.
static operand column_side(const conv_plan *p, const cg_conv_operands *x, float *side, block b,
                           int64_t cols_w) {
    if (b.nb > 1) return (operand){side, b.nb * p->P, p->Og * b.nb * p->P};
    const float *columns = p->direction == CG_CONV_FORWARD ? x->out : x->columns;
    return (operand){(float *)columns + b.n0 * p->col_size + b.oh0 * cols_w, p->P, p->Og * p->P};
}

static void im2col_block(const conv_plan *p, const cg_conv_geometry *g, const float *image,
                         operand cols, block b) {
    int64_t cw = (b.oh1 - b.oh0) * g->cols_w;
    for (int64_t i = 0; i < b.nb; i++)
        cg_im2col_rows(g, image + (b.n0 + i) * p->image_size, cols.data + i * cw, cols.ld, b.oh0,
                       b.oh1);
}

// The forward's epilogue on one row of a finished output block: + bias, then conv2d_relu's
// ReLU as a floor (lo 0; -inf without ReLU): v < lo ? lo : v lets NaN and -0 through, as
// PyTorch's relu does.
static void epilogue_row(float *row, int64_t len, const float *bias, float lo) {
    float b = bias ? *bias : 0.0f;
    for (int64_t j = 0; j < len; j++) {
        float v = bias ? row[j] + b : row[j];
        row[j] = v < lo ? lo : v;
    }
}

static float relu_floor(const cg_conv_operands *x) {
    return x->relu ? 0.0f : -INFINITY;
}

// The epilogue on output rows [b.oh0, b.oh1) of images [b.n0, b.n0 + b.nb), in cache.
static void epilogue_block(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                           block b) {
    if (!x->bias && !x->relu) return;
    int64_t start = b.oh0 * g->cols_w, len = (b.oh1 - b.oh0) * g->cols_w;
    for (int64_t i = b.n0; i < b.n0 + b.nb; i++)
        for (int64_t o = 0; o < g->cols_channels; o++)
            epilogue_row(x->out + i * p->col_size + o * p->P + start, len,
                         x->bias ? x->bias + o : NULL, relu_floor(x));
}

// One block with one workspace slice; dweight is where WEIGHT_GRAD adds (a thread's
// private copy when image-parallel).
static void run_block(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                      float *slice, float *dweight, block b) {
    operand img = image_side(p, g, x, slice, b);
    operand col = column_side(p, x, slice + p->cols_floats, b, g->cols_w);
    int64_t n = b.nb * (b.oh1 - b.oh0) * g->cols_w; // GEMM width: positions in the block
    const float *w = x->weight;
    switch (p->direction) {
    case CG_CONV_FORWARD:
        if (!p->pointwise) im2col_block(p, g, x->image, img, b);
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(false, false, p->Og, n, p->K, 1.0f, w + gi * p->Og * p->K, p->K,
                    img.data + gi * img.group_stride, img.ld, 0.0f,
                    col.data + gi * col.group_stride, col.ld);
        if (b.nb > 1)
            scatter_side(col.data, x->out + b.n0 * p->col_size, b.nb, g->cols_channels, p->P);
        epilogue_block(p, g, x, b);
        break;
    case CG_CONV_TRANSPOSED:
        if (b.nb > 1)
            gather_side(x->columns + b.n0 * p->col_size, col.data, b.nb, g->cols_channels, p->P);
        if (!p->pointwise && b.oh0 == 0)
            memset(x->out + b.n0 * p->image_size, 0,
                   (size_t)(b.nb * p->image_size) * sizeof(float));
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(true, false, p->K, n, p->Og, 1.0f, w + gi * p->Og * p->K, p->K,
                    col.data + gi * col.group_stride, col.ld, 0.0f,
                    img.data + gi * img.group_stride, img.ld);
        for (int64_t i = 0; !p->pointwise && i < b.nb; i++)
            cg_col2im_rows(g, img.data + i * (b.oh1 - b.oh0) * g->cols_w, img.ld,
                           x->out + (b.n0 + i) * p->image_size, b.oh0, b.oh1);
        if (x->bias && b.oh1 == g->cols_h) // the images are complete only after their last block
            cg_conv_add_bias(x->out + b.n0 * p->image_size, x->bias, b.nb, g->image_channels,
                             g->image_h * g->image_w);
        break;
    case CG_CONV_WEIGHT_GRAD:
        if (!p->pointwise) im2col_block(p, g, x->image, img, b);
        if (b.nb > 1)
            gather_side(x->columns + b.n0 * p->col_size, col.data, b.nb, g->cols_channels, p->P);
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(false, true, p->Og, p->K, n, 1.0f, col.data + gi * col.group_stride, col.ld,
                    img.data + gi * img.group_stride, img.ld, 1.0f, dweight + gi * p->Og * p->K,
                    p->K);
        break;
    }
}

// Images [n0, n0+nb), a block of output rows at a time.
static void run_images(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                       float *slice, float *dweight, int64_t n0, int64_t nb) {
    for (int64_t oh0 = 0; oh0 < g->cols_h; oh0 += p->rows) {
        block b = {n0, nb, oh0, oh0 + p->rows < g->cols_h ? oh0 + p->rows : g->cols_h};
        run_block(p, g, x, slice, dweight, b);
    }
}

typedef struct scatter_job {
    const float *side, *bias;
    float *out, lo; // lo: the epilogue's ReLU floor
    int64_t nb, O, P;
} scatter_job;

static void scatter_rows(void *ctx, int64_t begin, int64_t end) {
    const scatter_job *s = ctx;
    for (int64_t io = begin; io < end; io++) {
        int64_t i = io / s->O, o = io % s->O;
        const float *src = s->side + o * s->nb * s->P + i * s->P;
        float *dst = s->out + (i * s->O + o) * s->P;
        memcpy(dst, src, (size_t)s->P * sizeof(float));
        epilogue_row(dst, s->P, s->bias ? s->bias + o : NULL, s->lo);
    }
}

// out[n0:n0+nb] = the (O, nb*P) side regrouped, with the epilogue.
static void scatter_epilogue(const conv_plan *p, const float *side, const cg_conv_operands *x,
                             float *out, int64_t nb, int64_t O) {
    scatter_job s = {side, x->bias, out, relu_floor(x), nb, O, p->P};
    cg_parallel_for(nb * O, CG_PARALLEL_MIN / (p->P > 0 ? p->P : 1), scatter_rows, &s);
}

// Images [n0, n0+nb) of the forward as implicit GEMMs, one per group, in one slice.
static void implicit_block(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                           const int32_t *taps, float *slice, int64_t n0, int64_t nb) {
    float *side = slice, *gemm_workspace = slice + p->side_floats;
    int64_t Cg_plane = g->image_channels / g->groups * g->image_h * g->image_w, n = nb * p->P;
    float *c = nb > 1 ? side : x->out + n0 * p->col_size;
    int64_t ldc = nb > 1 ? n : p->P;
    for (int64_t gi = 0; gi < g->groups; gi++) {
        cg_conv_implicit_b b = {g, x->image + n0 * p->image_size + gi * Cg_plane, taps, p->K};
        cg_gemm_implicit_b(p->Og, n, p->K, 1.0f, x->weight + gi * p->Og * p->K, p->K,
                           cg_conv_implicit_pack, &b, 0.0f, c + gi * p->Og * ldc, ldc,
                           gemm_workspace);
    }
    if (nb > 1)
        scatter_epilogue(p, side, x, x->out + n0 * p->col_size, nb, g->cols_channels);
    else
        epilogue_block(p, g, x, (block){n0, 1, 0, g->cols_h});
}

// The operands of a driver job over blocks of images.
typedef struct images_job {
    const conv_plan *p;
    const cg_conv_geometry *g;
    const cg_conv_operands *x;
    const int32_t *taps; // the implicit path's tap table
    float *workspace;    // one slice per part (slice_floats each)
    float *partial;      // image-parallel weight gradients: one private copy per part
    int64_t slice_floats;
} images_job;

// Image blocks (p->images images each) of part `part` of p->slices: consecutive blocks.
static int64_t first_block(const images_job *j, int64_t part) {
    int64_t blocks = (j->g->batch + j->p->images - 1) / j->p->images;
    return cg_part_begin(blocks, part, j->p->slices);
}

static void implicit_part(void *ctx, int64_t part) {
    const images_job *j = ctx;
    const conv_plan *p = j->p;
    float *slice = j->workspace + part * j->slice_floats;
    for (int64_t b = first_block(j, part); b < first_block(j, part + 1); b++) {
        int64_t n0 = b * p->images;
        implicit_block(p, j->g, j->x, j->taps, slice, n0,
                       j->g->batch - n0 < p->images ? j->g->batch - n0 : p->images);
    }
}

// The forward as implicit GEMMs, p->images images per block: with at least a block per
// thread, parts take whole blocks (one job per call, serial GEMMs: a fork and join per
// small GEMM measured ruinous on a loaded machine), else threaded GEMMs.
static void run_implicit(const conv_plan *p, const cg_conv_geometry *g, const cg_conv_operands *x,
                         float *workspace) {
    int32_t *taps = (int32_t *)workspace;
    cg_conv_implicit_taps(g, taps);
    images_job j = {.p = p,
                    .g = g,
                    .x = x,
                    .taps = taps,
                    .workspace = workspace + TAP_FLOATS(p->K),
                    .slice_floats = p->side_floats + p->implicit_floats};
    cg_parallel_parts(p->slices, implicit_part, &j);
}

// Image-parallel im2col + GEMM: part `part`'s blocks of images in its own slice, its weight
// gradient into its own copy.
static void images_part(void *ctx, int64_t part) {
    const images_job *j = ctx;
    const conv_plan *p = j->p;
    float *dweight = j->partial ? j->partial + part * p->weight_size : NULL;
    for (int64_t b = first_block(j, part); b < first_block(j, part + 1); b++) {
        int64_t n0 = b * p->images;
        run_images(p, j->g, j->x, j->workspace + part * j->slice_floats, dweight, n0,
                   j->g->batch - n0 < p->images ? j->g->batch - n0 : p->images);
    }
}

static void run_depthwise(cg_conv_direction direction, const cg_conv_geometry *g,
                          const cg_conv_operands *x) {
    switch (direction) {
    case CG_CONV_FORWARD:
        cg_conv_depthwise_forward(g, x->image, x->weight, x->out);
        if (x->bias)
            cg_conv_add_bias(x->out, x->bias, g->batch, g->cols_channels, g->cols_h * g->cols_w);
        break;
    case CG_CONV_TRANSPOSED:
        cg_conv_depthwise_transposed(g, x->columns, x->weight, x->out);
        if (x->bias)
            cg_conv_add_bias(x->out, x->bias, g->batch, g->image_channels, g->image_h * g->image_w);
        break;
    case CG_CONV_WEIGHT_GRAD:
        cg_conv_depthwise_weight_grad(g, x->image, x->columns, x->out);
        break;
    }
}

static int execute_implicit(const conv_plan *p, const cg_conv_geometry *g,
                            const cg_conv_operands *x) {
    float *workspace =
        cg_alloc((size_t)(TAP_FLOATS(p->K) + p->slices * (p->side_floats + p->implicit_floats)) *
                 sizeof(float));
    if (!workspace) return -1;
    run_implicit(p, g, x, workspace);
    cg_dealloc(workspace);
    return 0;
}

// im2col + GEMM or pointwise, image-parallel or batched.
static int execute_gemm(const conv_plan *plan, cg_conv_direction direction,
                        const cg_conv_geometry *g, const cg_conv_operands *x) {
    conv_plan p = *plan;
    // Image-parallel weight gradients sum into one private copy per thread, added in thread
    // order afterwards (deterministic for a given thread count).
    bool private_dweight = p.image_parallel && direction == CG_CONV_WEIGHT_GRAD;
    int64_t slice_floats = p.cols_floats + p.side_floats, all_slices = p.slices * slice_floats;
    int64_t partial_floats = private_dweight ? p.slices * p.weight_size : 0;
    float *workspace = cg_alloc((size_t)(all_slices + partial_floats) * sizeof(float));
    if (!workspace) return -1;
    float *partial = workspace + all_slices;
    memset(partial, 0, (size_t)partial_floats * sizeof(float));
    if (p.image_parallel) {
        images_job j = {.p = &p,
                        .g = g,
                        .x = x,
                        .workspace = workspace,
                        .partial = private_dweight ? partial : NULL,
                        .slice_floats = slice_floats};
        cg_parallel_parts(p.slices, images_part, &j);
        for (int64_t t = 0; t < (private_dweight ? p.slices : 0); t++)
            for (int64_t i = 0; i < p.weight_size; i++) x->out[i] += partial[t * p.weight_size + i];
    } else {
        for (int64_t n0 = 0; n0 < g->batch; n0 += p.images)
            run_images(&p, g, x, workspace, x->out, n0,
                       g->batch - n0 < p.images ? g->batch - n0 : p.images);
    }
    cg_dealloc(workspace);
    return 0;
}

static int execute_plan(const conv_plan *p, cg_conv_direction direction, const cg_conv_geometry *g,
                        const cg_conv_operands *x) {
    // conv2d's bias gradient: the direct path takes it while it reads the columns, every
    // other path in one pass of its own.
    if (direction == CG_CONV_WEIGHT_GRAD && x->dbias && p->strategy != CG_CONV_STRATEGY_DIRECT)
        cg_conv_bias_grad(x->columns, x->dbias, g->batch, g->cols_channels, g->cols_h * g->cols_w);
    switch (p->strategy) {
    case CG_CONV_STRATEGY_DEPTHWISE:
        run_depthwise(direction, g, x);
        return 0;
    case CG_CONV_STRATEGY_WINOGRAD:
        return cg_conv_winograd(direction, g, x);
    case CG_CONV_STRATEGY_DIRECT:
        return cg_conv_direct(direction, g, x);
    case CG_CONV_STRATEGY_IMPLICIT_GEMM:
        return execute_implicit(p, g, x);
    case CG_CONV_STRATEGY_POINTWISE:
    case CG_CONV_STRATEGY_IMAGE_PARALLEL:
    case CG_CONV_STRATEGY_BATCHED_GEMM:
        return execute_gemm(p, direction, g, x);
    }
    return -1;
}

int cg_conv_execute(cg_conv_direction direction, const cg_conv_geometry *g,
                    const cg_conv_operands *x) {
    conv_plan p = plan_of(direction, g);
    int rc = execute_plan(&p, direction, g, x);
    // conv2d_relu's ReLU: the direct and Winograd paths and every forward GEMM path apply it
    // to each block as they finish it; the rest (depthwise, the transposed GEMM paths, which
    // scatter-add into the image until its last block) in one pass here.
    bool in_epilogue = p.strategy == CG_CONV_STRATEGY_DIRECT ||
                       p.strategy == CG_CONV_STRATEGY_WINOGRAD ||
                       (direction == CG_CONV_FORWARD && p.strategy != CG_CONV_STRATEGY_DEPTHWISE);
    if (rc == 0 && x->relu && direction != CG_CONV_WEIGHT_GRAD && !in_epilogue) {
        int64_t floats = direction == CG_CONV_FORWARD
                             ? g->batch * g->cols_channels * g->cols_h * g->cols_w
                             : g->batch * g->image_channels * g->image_h * g->image_w;
        cg_relu_floats(x->out, x->out, floats);
    }
    return rc;
}
