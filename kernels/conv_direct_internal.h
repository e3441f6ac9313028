// kernels/conv_direct_internal.h - what conv_direct.c (the driver: phase copies, packing,
// threads) and conv_direct_blocks.c (the register blocks) share.
#ifndef CG_CONV_DIRECT_INTERNAL_H
#define CG_CONV_DIRECT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_kernels.h"

#define OB    8  // output channels per row block (strips of outputs in the vector lanes)
#define LANES 16 // outputs per strip (one AVX-512 vector)
#define MAX_S 3  // strips per row block: 8 x 3 accumulators
#define MAX_T 3  // taps per weight-gradient block: 8 x 3 accumulators
#define CB    32 // output channels per channel block (channels in the vector lanes)
#define CR    14 // outputs per channel block: 2 x 14 accumulators
#define WT    14 // taps per channel weight-gradient block: 2 x 14 accumulators
// The weight gradient's narrow channel block, for groups of at most 16 output channels: one
// vector of channels x 28 taps (28 accumulators), every FMA on channels that can be real.
#define CB16 16
#define WT16 28
// A channel weight-gradient block's floats, either kind: WT taps x CB channels.
#define WGRAD_BLOCK_FLOATS (WT * CB)
_Static_assert(WGRAD_BLOCK_FLOATS == WT16 * CB16, "both weight-gradient blocks fill one buffer");

// The convolution conv_direct.c computes, whichever side of the geometry is its input.
typedef struct direct {
    int64_t batch, groups;
    int64_t ci, hi, wi; // input (N, ci, hi, wi)
    int64_t co, ho, wo; // output (N, co, ho, wo)
    int64_t kh, kw, sh, sw, dh, dw;
    int64_t pad_top, pad_left; // the input's origin in the padded frame (negative: cropped)
    // Tap (i, j) of this plan is tap (i0 + i*istep, j0 + j*jstep) of the op's weight, whose
    // kernel is okk taps, okw wide: the identity for a forward, flipped for a transposed
    // direction, every s-th tap for one output phase of a strided one (conv_direct_phases.c).
    int64_t i0, istep, j0, jstep, okw, okk;
    int64_t hq, wq; // one phase plane: hq rows of wq floats
    // Phases stored per dimension: sh (sw), or 1 when every tap reads phase 0 (a 1-wide
    // kernel, or a dilation that is a multiple of the stride); channel_floats = ph*pw*wq.
    int64_t ph, pw, channel_floats;
    // The rows of every phase plane of an image interleave: row i of plane q = (c*ph + a)*pw
    // + b starts at i * row_stride + q * wq, so the taps of all channels for one output row
    // lie in kh consecutive stretches of memory (few pages), not in ci planes apart.
    int64_t row_stride;
    int64_t image_floats; // one image's phase planes, slack included
    int64_t cg, og, taps; // per group: channels in / out, cg*kh*kw
    bool channel_blocks;  // channel blocks (else OB-channel row blocks)
    int64_t cb, blocks;   // output channels per block (OB, CB, or CB16), blocks per group
    int64_t wt;           // channel weight-gradient blocks: taps per block (WT, or WT16 with CB16)
    int64_t strips_per_row, strips;    // row blocks: 16-wide strips
    int64_t segments_per_row, segment; // channel blocks: row segments of <= CR outputs
    bool relu; // forward / transposed: max(0, .) on each block after its store, while in cache
} direct;

// Up to MAX_S strips of one row block: where each reads (from the group's phase planes) and
// writes (in the block's first output plane), and how many lanes are real.
typedef struct strips {
    int count;
    int64_t in[MAX_S], out[MAX_S];
    int valid[MAX_S];
} strips;

// A row block: out[o][s] = bias[o] + sum_t w[t][o] * in[toff[t] + s.in] over OB channels
// (o < ocs stored) and the strips' lanes.
typedef void (*cg_direct_rows_fn)(int64_t taps, const int64_t *toff, const float *w,
                                  const float *in, const strips *s, float *out, int64_t out_plane,
                                  int ocs, const float *bias);

// A channel block: out[o * out_plane + r] = bias[o] + sum_t w[t][o] * in[toff[t] + r] for
// o < ocs (<= CB) and r < n (<= CR) consecutive outputs of one row.
typedef void (*cg_direct_channels_fn)(int n, int64_t taps, const int64_t *toff, const float *w,
                                      const float *in, float *out, int64_t out_plane, int ocs,
                                      const float *bias);

// The weight-gradient block: sums[(o * ld + k) * 16 + l] += lane l of the sum over images
// [0, nb) and every strip of dy[o][strip] * in[toff[k] + strip], for o < ocs, k < nt (nt <=
// MAX_T). in and dy point at image 0 (its group's planes, its block's first channel); the
// images follow at in_stride and dy_stride. The 16 lanes are summed once, at the end.
typedef void (*cg_direct_wgrad_fn)(const direct *p, int64_t nb, const float *in, int64_t in_stride,
                                   const float *dy, int64_t dy_stride, const int64_t *toff, int nt,
                                   int ocs, float *sums, int64_t ld);

// The channel weight-gradient block: dw[t * p->cb + o] = sum over images [0, nb) and every
// output position of dyt[pos * co + o] * in[toff[t] + position in the phase planes], for
// t < nt (<= p->wt) and all p->cb channels o (those past the group are garbage, never used).
// in and dyt point at image 0 (its group's planes; its transposed output gradient at the
// block's first channel); the images follow at in_stride and dyt_stride.
typedef void (*cg_direct_wgrad_channels_fn)(const direct *p, int64_t nb, const float *in,
                                            int64_t in_stride, const float *dyt, int64_t dyt_stride,
                                            const int64_t *toff, int nt, float *dw);

// dst[c * rows + r] = src[r * cols + c]: the output gradient of an image, (co, positions) ->
// (positions, co), for the channel weight-gradient blocks; and, if row_sums is not NULL,
// row_sums[r] = the sum of src's row r (a channel's gradient over the image: the bias
// gradient), in float over 16 columns at a time and in double across them.
typedef void (*cg_direct_transpose_fn)(const float *src, int64_t rows, int64_t cols, float *dst,
                                       double *row_sums);

// dst[j] = src[j] for j in [lo, hi), 0 for the rest of [0, n), for `rows` rows (dst and src
// advancing by dst_stride and src_stride): zero-padded rows of a stride-1 phase plane
// (src[j] is read only for j in [lo, hi)). One call a plane, not a row: a 7x7 plane's rows
// cost their call and bounds more than their copy.
typedef void (*cg_direct_pad_rows_fn)(float *dst, int64_t dst_stride, const float *src,
                                      int64_t src_stride, int64_t rows, int64_t lo, int64_t hi,
                                      int64_t n);

// dst[b * phase_floats + j] = src[b + 2*j] if b + 2*j is in [lo, hi), else 0, for j < n and
// b < phases (1 or 2), for `rows` rows as pad_rows: the column phases of zero-padded rows of
// a stride-2 convolution (src[q] is read only for q in [lo, hi)).
typedef void (*cg_direct_split2_fn)(float *dst, int64_t dst_stride, int64_t phase_floats,
                                    const float *src, int64_t src_stride, int64_t rows, int64_t lo,
                                    int64_t hi, int64_t n, int phases);

// The kernels for this CPU (AVX-512), or the portable C loops.
cg_direct_rows_fn cg_direct_rows_kernel(bool portable);
cg_direct_channels_fn cg_direct_channels_kernel(bool portable);
cg_direct_wgrad_fn cg_direct_wgrad_kernel(bool portable);
// The channel weight-gradient block for blocks of cb (CB or CB16) channels.
cg_direct_wgrad_channels_fn cg_direct_wgrad_channels_kernel(bool portable, int64_t cb);
cg_direct_transpose_fn cg_direct_transpose_kernel(bool portable);
cg_direct_pad_rows_fn cg_direct_pad_rows_kernel(bool portable);
cg_direct_split2_fn cg_direct_split2_kernel(bool portable);

static inline int64_t cg_direct_ceil_div(int64_t x, int64_t y) {
    return (x + y - 1) / y;
}

// ---- the plan (conv_direct_plan.c) ----

// The plan of direction d of g (transposed: its phase with the most taps).
direct cg_direct_plan(const cg_conv_geometry *g, cg_conv_direction d);

// The fields of p that follow from its shape (the phase planes, blocks and strips), for
// direction d.
void cg_direct_plan_finish(direct *p, cg_conv_direction d);

// A stride-1 plan's padded frame set to hq rows of wq floats with the input's origin at
// (pad_top, pad_left), and the fields that follow from it (row_stride, image_floats).
void cg_direct_set_frame(direct *p, int64_t pad_top, int64_t pad_left, int64_t hq, int64_t wq);

// wpack (groups * blocks * taps * cb floats): the weights in block order, zero past og; the
// op's weight, or transposed: read with its channels swapped (conv_transpose2d's).
void cg_direct_pack_weights(const direct *p, bool transposed, const float *weight, float *wpack);

// toff[t] (taps of them): where tap t = (c, i, j) of a group reads, relative to output
// (0, 0) of the group's first phase plane.
void cg_direct_tap_offsets(const direct *p, int64_t *toff);

// ---- the driver (conv_direct.c) ----

// How many threads a call of plan p takes (one for small ones or inside a parallel part).
int cg_direct_threads(const direct *p);

// One image's phase planes (image: (ci, hi, wi)) in p's frame.
void cg_direct_prepare(const direct *p, const float *image, float *planes);

// Every block of one image: out (co, ho, wo) = its convolution (+ bias, ReLU as p says), the
// taps read at toff from the image's planes.
void cg_direct_run_image(const direct *p, const float *planes, const int64_t *toff,
                         const float *wpack, const float *bias, float *out);

// The forward pass of plan p into out (N, co, ho, wo), reading input (N, ci, hi, wi), the
// op's weight (transposed: read with its channels swapped, as conv_transpose2d's) and bias
// (per output channel, or NULL). Returns -1 if memory runs out.
int cg_direct_forward(const direct *p, bool transposed, const float *input, const float *weight,
                      const float *bias, float *out);

// The plan of output phase (ry, rx) of the transposed direction of g: the outputs (ry + sh*y,
// rx + sw*x), a stride-1 convolution of the columns with the taps that reach them. Phase
// (0, 0) of a stride-1 geometry is the whole transposed convolution.
direct cg_direct_phase_plan(const cg_conv_geometry *g, int64_t ry, int64_t rx);

// The plan of the phase of g's transposed direction with the most taps.
direct cg_direct_transposed_plan(const cg_conv_geometry *g);

// The transposed direction of g, phase by phase (conv_direct_phases.c).
int cg_direct_transposed(const cg_conv_geometry *g, const cg_conv_operands *x);

#endif
