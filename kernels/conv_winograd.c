// kernels/conv_winograd.c - Winograd F(2x2, 3x3) for 3x3, stride-1 convolutions.
//
// Each 2x2 block of outputs ("tile") needs a 4x4 patch of the input. Winograd's identity
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// computes the 2x2 outputs of one channel pair from 16 products instead of 36 (2.25x fewer
// multiplies). Over channels the 16 elementwise products become 16 GEMMs:
//   M[xi] (O, T) = U[xi] (O, C) x V[xi] (C, T),   xi = one of the 4x4 transform positions,
// with U the transformed weights (once per call) and V the transformed input patches of T
// tiles taken across the whole batch (batch x tiles is the wide GEMM dimension, so even
// 14x14 images fill the GEMM's tiles). Tiles go in blocks sized so a thread's V and M
// stay in L2; threads take whole blocks, each with its own slice of one workspace
// allocated up front.
//
// The transposed direction (conv_transpose2d forward, conv2d input gradient) of a 3x3
// stride-1 convolution with padding p is itself a 3x3 stride-1 convolution of the column
// side with the kernel flipped, channels swapped and padding 2 - p, so the same code runs
// both.
//
// Error: the transforms are exact up to rounding (coefficients 0, +-1, +-0.5); compared
// with direct summation the result carries a few more roundings per output (about
// 16 + C terms instead of 9C), well inside 1e-5 relative for these data.
#include <math.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "conv_kernels.h"
#include "gemm.h"
#include "simd_clones.h"

// Floats of V and M per thread block (about 1 MB, Zen 4's L2): sets the tile block size.
#define WINOGRAD_BLOCK_FLOATS ((int64_t)1 << 18)
// Whether Winograd F(2x2, 3x3) can run the geometry (any direction): a 3x3 kernel, stride
// and dilation 1, one group, padding at most 2 (the transposed direction's is 2 - p), and
// some output. Whether it pays is kernels/conv_strategy.c's rule.
bool cg_conv_winograd_fits(const cg_conv_geometry *g) {
    return g->kernel_h == 3 && g->kernel_w == 3 && g->stride_h == 1 && g->stride_w == 1 &&
           g->dilation_h == 1 && g->dilation_w == 1 && g->groups == 1 && g->pad_top <= 2 &&
           g->pad_left <= 2 && g->cols_h > 0 && g->cols_w > 0;
}

// The convolution Winograd computes, whichever side of the geometry is its input.
typedef struct wino {
    int64_t batch, ci, hi, wi; // input (N, ci, hi, wi)
    int64_t co, ho, wo;        // output (N, co, ho, wo)
    int64_t pad_top, pad_left;
    int64_t tiles_h, tiles_w, tiles; // tiles per image row / column / image
    int64_t block;                   // tiles per block
} wino;

static wino wino_of(const cg_conv_geometry *g, bool transposed) {
    wino w = {.batch = g->batch};
    if (!transposed) {
        w.ci = g->image_channels, w.hi = g->image_h, w.wi = g->image_w;
        w.co = g->cols_channels, w.ho = g->cols_h, w.wo = g->cols_w;
        w.pad_top = g->pad_top, w.pad_left = g->pad_left;
    } else {
        w.ci = g->cols_channels, w.hi = g->cols_h, w.wi = g->cols_w;
        w.co = g->image_channels, w.ho = g->image_h, w.wo = g->image_w;
        w.pad_top = 2 - g->pad_top, w.pad_left = 2 - g->pad_left;
    }
    w.tiles_h = (w.ho + 1) / 2, w.tiles_w = (w.wo + 1) / 2;
    w.tiles = w.tiles_h * w.tiles_w;
    int64_t all = w.batch * w.tiles, threads = cg_num_threads();
    int64_t block = WINOGRAD_BLOCK_FLOATS / (16 * (w.ci + w.co));
    int64_t even = (all + threads - 1) / threads; // every thread gets a block
    if (block > even) block = even;
    w.block = block < 16 ? 16 : (block + 15) / 16 * 16;
    return w;
}

// U[xi][co][ci] = (G k G^T)[xi] for the 3x3 kernel k of (co, ci).
static void transform_weights(const wino *w, bool transposed, const float *weight, float *u) {
    for (int64_t co = 0; co < w->co; co++)
        for (int64_t ci = 0; ci < w->ci; ci++) {
            float k[3][3], t[4][3];
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    k[a][b] = transposed ? weight[((ci * w->co + co) * 3 + 2 - a) * 3 + 2 - b]
                                         : weight[((co * w->ci + ci) * 3 + a) * 3 + b];
            for (int b = 0; b < 3; b++) { // t = G k
                t[0][b] = k[0][b];
                t[1][b] = 0.5f * (k[0][b] + k[1][b] + k[2][b]);
                t[2][b] = 0.5f * (k[0][b] - k[1][b] + k[2][b]);
                t[3][b] = k[2][b];
            }
            float *dst = u + co * w->ci + ci;
            int64_t xs = w->co * w->ci;   // between transform positions
            for (int i = 0; i < 4; i++) { // (t G^T) row i
                dst[(i * 4 + 0) * xs] = t[i][0];
                dst[(i * 4 + 1) * xs] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                dst[(i * 4 + 2) * xs] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                dst[(i * 4 + 3) * xs] = t[i][2];
            }
        }
}

// The transforms run on runs of up to RUN tiles of one tile row, as loops over whole rows
// (which the compiler vectorises; simd_clones.h picks the widest instruction set).
#define RUN 64

// dst[0:width] = row y of a (rows, cols) plane from column x0, zero outside the plane.
static void load_row(const float *plane, int64_t rows, int64_t cols, int64_t y, int64_t x0,
                     int64_t width, float *dst) {
    int64_t lo = x0 < 0 ? -x0 : 0, hi = cols - x0 < width ? cols - x0 : width;
    if (y < 0 || y >= rows || hi <= lo) {
        memset(dst, 0, (size_t)width * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)lo * sizeof(float));
    memcpy(dst + lo, plane + y * cols + x0 + lo, (size_t)(hi - lo) * sizeof(float));
    memset(dst + hi, 0, (size_t)(width - hi) * sizeof(float));
}

// V[xi][l] (xi stride xs) = (B^T d B)[xi] of tiles (ty, tx0 + l), l < L, of one plane.
CG_SIMD_CLONES static void input_run(const wino *w, const float *plane, int64_t ty, int64_t tx0,
                                     int64_t L, float *dst, int64_t xs) {
    float r[4][2 * RUN + 2], u[4][2 * RUN + 2];
    int64_t width = 2 * L + 2;
    for (int i = 0; i < 4; i++)
        load_row(plane, w->hi, w->wi, 2 * ty - w->pad_top + i, 2 * tx0 - w->pad_left, width, r[i]);
    for (int64_t k = 0; k < width; k++) { // u = B^T d, all columns at once
        u[0][k] = r[0][k] - r[2][k];
        u[1][k] = r[1][k] + r[2][k];
        u[2][k] = r[2][k] - r[1][k];
        u[3][k] = r[1][k] - r[3][k];
    }
    for (int i = 0; i < 4; i++) { // (u B) row i, tile by tile
        const float *x = u[i];
        float *d0 = dst + (i * 4) * xs, *d1 = d0 + xs, *d2 = d1 + xs, *d3 = d2 + xs;
        for (int64_t l = 0; l < L; l++) {
            d0[l] = x[2 * l] - x[2 * l + 2];
            d1[l] = x[2 * l + 1] + x[2 * l + 2];
            d2[l] = x[2 * l + 2] - x[2 * l + 1];
            d3[l] = x[2 * l + 1] - x[2 * l + 3];
        }
    }
}

// Output tiles (ty, tx0 + l), l < L, of one plane = A^T M A + b, clipped at the edge, with
// conv2d_relu's ReLU as a floor (lo 0, else -inf: v < lo ? lo : v passes NaN and -0).
CG_SIMD_CLONES static void output_run(const wino *w, const float *src, int64_t xs, float b,
                                      float lo, float *plane, int64_t ty, int64_t tx0, int64_t L) {
    float r[2][4][RUN], row[2 * RUN];
    for (int j = 0; j < 4; j++) { // r = A^T M
        const float *m0 = src + j * xs, *m1 = m0 + 4 * xs, *m2 = m1 + 4 * xs, *m3 = m2 + 4 * xs;
        for (int64_t l = 0; l < L; l++) {
            r[0][j][l] = m0[l] + m1[l] + m2[l];
            r[1][j][l] = m1[l] - m2[l] - m3[l];
        }
    }
    int64_t ox = 2 * tx0, n = w->wo - ox < 2 * L ? w->wo - ox : 2 * L;
    for (int i = 0; i < 2 && 2 * ty + i < w->ho; i++) { // (r A) row i
        for (int64_t l = 0; l < L; l++) {
            float even = r[i][0][l] + r[i][1][l] + r[i][2][l] + b;
            float odd = r[i][1][l] - r[i][2][l] - r[i][3][l] + b;
            row[2 * l] = even < lo ? lo : even;
            row[2 * l + 1] = odd < lo ? lo : odd;
        }
        memcpy(plane + (2 * ty + i) * w->wo + ox, row, (size_t)n * sizeof(float));
    }
}

// The adjoint of output_run (for the weight gradient): D[xi][l] (xi stride xs) =
// (A dy A^T)[xi] of the 2x2 output-gradient tiles (ty, tx0 + l), zero outside the plane.
CG_SIMD_CLONES static void grad_run(const wino *w, const float *plane, int64_t ty, int64_t tx0,
                                    int64_t L, float *dst, int64_t xs) {
    float y[2][2 * RUN], q[4][2 * RUN];
    int64_t width = 2 * L;
    for (int i = 0; i < 2; i++) load_row(plane, w->ho, w->wo, 2 * ty + i, 2 * tx0, width, y[i]);
    for (int64_t k = 0; k < width; k++) { // q = A dy
        q[0][k] = y[0][k];
        q[1][k] = y[0][k] + y[1][k];
        q[2][k] = y[0][k] - y[1][k];
        q[3][k] = -y[1][k];
    }
    for (int i = 0; i < 4; i++) { // (q A^T) row i
        const float *x = q[i];
        float *d0 = dst + (i * 4) * xs, *d1 = d0 + xs, *d2 = d1 + xs, *d3 = d2 + xs;
        for (int64_t l = 0; l < L; l++) {
            d0[l] = x[2 * l];
            d1[l] = x[2 * l] + x[2 * l + 1];
            d2[l] = x[2 * l] - x[2 * l + 1];
            d3[l] = -x[2 * l + 1];
        }
    }
}

// Calls body(n, ty, tx0, L, offset) for each run of tiles of [t0, t1) in one tile row;
// offset is the run's first tile relative to t0.
#define FOR_EACH_RUN(w, t0, t1, ...)                                                               \
    for (int64_t t_ = (t0); t_ < (t1);) {                                                          \
        int64_t n = t_ / (w)->tiles, q_ = t_ % (w)->tiles, ty = q_ / (w)->tiles_w,                 \
                tx0 = q_ % (w)->tiles_w, L = (w)->tiles_w - tx0, offset = t_ - (t0);               \
        if (L > (t1)-t_) L = (t1)-t_;                                                              \
        if (L > RUN) L = RUN;                                                                      \
        __VA_ARGS__;                                                                               \
        t_ += L;                                                                                   \
    }

// A transform of one run of tiles of one channel plane (input_run or grad_run).
typedef void (*run_transform)(const wino *w, const float *plane, int64_t ty, int64_t tx0, int64_t L,
                              float *dst, int64_t xs);

// dst[xi][c][t - t0] = the transform of tiles [t0, t1) (flat over the batch) of each of the
// `channels` planes of `size` floats in src: V from the input (input_run), D from the
// output gradient (grad_run).
static void transform_tiles(const wino *w, run_transform run, const float *src, int64_t channels,
                            int64_t size, int64_t t0, int64_t t1, float *dst) {
    int64_t xs = channels * w->block;
    for (int64_t c = 0; c < channels; c++)
        FOR_EACH_RUN(
            w, t0, t1,
            run(w, src + (n * channels + c) * size, ty, tx0, L, dst + c * w->block + offset, xs));
}

// dweight (co, ci, 3, 3) += G^T dU G, the adjoint of transform_weights (forward layout).
static void add_weight_grad(const wino *w, const float *du, float *dweight) {
    int64_t xs = w->co * w->ci;
    for (int64_t k = 0; k < xs; k++) {
        float s[3][4], *dst = dweight + k * 9;
        for (int j = 0; j < 4; j++) { // s = G^T dU
            float u0 = du[j * xs + k], u1 = du[(4 + j) * xs + k], u2 = du[(8 + j) * xs + k],
                  u3 = du[(12 + j) * xs + k];
            s[0][j] = u0 + 0.5f * (u1 + u2);
            s[1][j] = 0.5f * (u1 - u2);
            s[2][j] = 0.5f * (u1 + u2) + u3;
        }
        for (int a = 0; a < 3; a++) { // (s G) row a
            dst[a * 3 + 0] += s[a][0] + 0.5f * (s[a][1] + s[a][2]);
            dst[a * 3 + 1] += 0.5f * (s[a][1] - s[a][2]);
            dst[a * 3 + 2] += 0.5f * (s[a][1] + s[a][2]) + s[a][3];
        }
    }
}

// output tiles [t0, t1) = A^T M A (+ bias)
static void transform_output(const wino *w, const float *m, const cg_conv_operands *x, int64_t t0,
                             int64_t t1) {
    int64_t xs = w->co * w->block, plane = w->ho * w->wo;
    float lo = x->relu ? 0.0f : -INFINITY;
    for (int64_t co = 0; co < w->co; co++)
        FOR_EACH_RUN(w, t0, t1,
                     output_run(w, m + co * w->block + offset, xs, x->bias ? x->bias[co] : 0.0f, lo,
                                x->out + (n * w->co + co) * plane, ty, tx0, L));
}

// One block of tiles [t0, t1) with a thread's V and M (D for the weight gradient) buffers;
// du is the thread's private dU (weight gradient only).
static void run_tiles(cg_conv_direction d, const wino *w, const cg_conv_operands *x, const float *u,
                      float *v, float *m, float *du, int64_t t0, int64_t t1) {
    int64_t n = t1 - t0, bl = w->block;
    if (d == CG_CONV_WEIGHT_GRAD) {
        transform_tiles(w, input_run, x->image, w->ci, w->hi * w->wi, t0, t1, v);
        transform_tiles(w, grad_run, x->columns, w->co, w->ho * w->wo, t0, t1, m);
        for (int xi = 0; xi < 16; xi++) // dU[xi] (co, ci) += D[xi] (co, n) x V[xi]^T (n, ci)
            cg_gemm(false, true, w->co, w->ci, n, 1.0f, m + xi * w->co * bl, bl,
                    v + xi * w->ci * bl, bl, 1.0f, du + xi * w->co * w->ci, w->ci);
        return;
    }
    bool transposed = d == CG_CONV_TRANSPOSED;
    transform_tiles(w, input_run, transposed ? x->columns : x->image, w->ci, w->hi * w->wi, t0, t1,
                    v);
    for (int xi = 0; xi < 16; xi++) // M[xi] (co, n) = U[xi] (co, ci) x V[xi] (ci, n)
        cg_gemm(false, false, w->co, n, w->ci, 1.0f, u + xi * w->co * w->ci, w->ci,
                v + xi * w->ci * bl, bl, 0.0f, m + xi * w->co * bl, bl);
    transform_output(w, m, x, t0, t1);
}

typedef struct wino_job {
    cg_conv_direction d;
    const wino *w;
    const cg_conv_operands *x;
    float *u;
    int64_t u_floats, slice, parts;
} wino_job;

// Part `part` of the tile blocks, consecutive blocks, in its own slice.
static void tiles_part(void *ctx, int64_t part) {
    const wino_job *j = ctx;
    const wino *w = j->w;
    int64_t all = w->batch * w->tiles, blocks = (all + w->block - 1) / w->block;
    float *v = j->u + j->u_floats + part * j->slice, *m = v + 16 * w->ci * w->block;
    for (int64_t b = cg_part_begin(blocks, part, j->parts);
         b < cg_part_begin(blocks, part + 1, j->parts); b++)
        run_tiles(j->d, w, j->x, j->u, v, m, m + 16 * w->co * w->block, b * w->block,
                  b * w->block + w->block < all ? b * w->block + w->block : all);
}

int cg_conv_winograd(cg_conv_direction d, const cg_conv_geometry *g, const cg_conv_operands *x) {
    bool wgrad = d == CG_CONV_WEIGHT_GRAD;
    wino w = wino_of(g, d == CG_CONV_TRANSPOSED);
    int threads = cg_num_threads();
    // U (transformed weights, or the summed dU), then per thread: V, M, and a private dU.
    int64_t u_floats = 16 * w.co * w.ci, vm = 16 * (w.ci + w.co) * w.block;
    int64_t slice = vm + (wgrad ? u_floats : 0);
    float *u = cg_alloc((size_t)(u_floats + threads * slice) * sizeof(float));
    if (!u) return -1;
    if (wgrad)
        for (int t = 0; t < threads; t++)
            memset(u + u_floats + t * slice + vm, 0, (size_t)u_floats * sizeof(float));
    else
        transform_weights(&w, d == CG_CONV_TRANSPOSED, x->weight, u);
    // One part per thread, each with its own V, M and dU slice; the weight gradient's
    // partial sums, added in part order below, are the same for a given thread count.
    wino_job j = {d, &w, x, u, u_floats, slice, threads};
    cg_parallel_parts(threads, tiles_part, &j);
    if (wgrad) {
        memset(u, 0, (size_t)u_floats * sizeof(float));
        for (int t = 0; t < threads; t++)
            for (int64_t i = 0; i < u_floats; i++) u[i] += u[u_floats + t * slice + vm + i];
        add_weight_grad(&w, u, x->out);
    }
    cg_dealloc(u);
    return 0;
}
