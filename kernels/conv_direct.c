// kernels/conv_direct.c - direct convolution: outputs accumulated in registers, no column
// matrix.
//
// im2col + GEMM writes K = C/g * kH * kW floats per output position and the GEMM packs them
// again; for shallow convolutions (a 1-channel 5x5 first layer has K = 25) and small images
// that traffic costs as much as the multiply. Here a block of output channels and outputs
// accumulates in registers over every tap of the group and is stored once, with the bias
// added (conv_direct_blocks.c): 32 channels x up to 14 outputs of a row with 24 or more
// output channels per group ("channel blocks"), else 8 channels x 3 strips of 16 outputs
// ("row blocks").
//
// Strided convolutions are made unit-stride first: each image is copied once into
// sh x sw "phase" planes per channel, phase (a, b) holding the zero-padded input at rows
// a, a + sh, ... and columns b, b + sw, ...; tap (i, j) then reads phase ((i*dh) % sh,
// (j*dw) % sw) at offset ((i*dh) / sh, (j*dw) / sw) with unit stride. The copy also holds
// the padding (zeros), so the inner loop has no bounds tests. For stride 1 it is just the
// zero-padded image. Only the phases some tap reads are copied: with a 1-wide kernel or a
// dilation that is a multiple of the stride (config d: stride 2, dilation 2) that is phase
// 0 alone, a quarter of the input, and the copy reads only every other row.
//
// The transposed direction of a stride-1 convolution (conv2d's input gradient,
// conv_transpose2d's forward) is itself a stride-1 convolution of the column side, with
// the kernel flipped, the channels swapped and padding dilation * (k - 1) - pad (negative:
// the frame crops), so the same code runs it. A strided one is one such convolution per
// output phase, with every s-th tap (conv_direct_phases.c).
//
// The weight gradient runs on the same phase copies. With 16 or more output channels per
// group, a channel block keeps a block of the gradient in 28 registers over every output
// position of every image, the output gradient transposed once per image to (positions,
// channels): 32 channels x 14 taps with 17 or more channels per group (one position's 32
// channels are 2 loads; one input broadcast per tap feeds 2 FMAs), 16 channels x 28 taps
// with at most 16 (1 load; one broadcast per tap feeds 1 FMA, none on the empty half of a
// 32-channel block: the ResNet's 16 -> 16 layers' weight gradient 2.3 -> 1.55 ms). The
// plan holds the block's channels and taps (direct.cb, direct.wt) and the kernel for that
// width; the driver is one for both. Fewer than 16 channels take the 16-channel blocks
// too when the taps are too deep for row blocks (MAX_WGRAD_TAPS). Else a row block keeps 8
// channels x 3 taps of 16-lane partial sums over every strip, a few images at a time,
// summed at the end. The threads split the batch by images, each in chunks of its own and
// into its own copy of the gradient, added in thread order (deterministic for a given
// thread count, like the GEMM path); images too large for a chunk to hold one per thread
// split their (channel block, tap block) pairs instead, each owned by one thread.
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "conv_direct_internal.h"
#include "elementwise.h"
#include "conv_kernels.h"
#include "simd_clones.h"

// A strided input row up to this wide is zero-padded on the stack before its phases are
// split off.
#define ROW_FLOATS 1024
// The weight gradient rereads a chunk of images (phase copies and transposed output
// gradient) once per (channel block, tap block), so a chunk is sized to stay in one core's
// L2 (1 MB on Zen 4 and Zen 5): at most this many floats, whole images, >= 1.
#define WGRAD_CHUNK_FLOATS ((int64_t)3 << 16)
// The weight gradient takes this many floats of output gradient (8 channels of a few
// images) at a time through all its tap blocks, so they are reread from L1.
#define WGRAD_L1_FLOATS 4096
// Below this many multiply-adds one thread does the whole call.
#define PARALLEL_MACS ((int64_t)1 << 18)

static bool portable_only; // cg_conv_direct_use_portable

void cg_conv_direct_use_portable(bool on) {
    portable_only = on;
}

bool cg_conv_direct_has_avx512(void) {
#if CG_X86_SIMD
    return !portable_only && __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

// ---- preparing the operands ------------------------------------------------------------------

// Channel c of one image -> its ph*pw phase planes (their rows row_stride apart, between
// the other channels'): phase (a, b) [i][j] = input[a + sh*i - pad_top][b + sw*j -
// pad_left], zero outside the input.
CG_SIMD_CLONES static void prepare_channel(const direct *p, cg_direct_pad_rows_fn pad_rows,
                                           cg_direct_split2_fn split2, const float *input,
                                           float *planes) {
    // Stride 1: a plane's rows are the padded rows, and stride 2: split2 pads and splits
    // them in one pass, each in one call for the rows inside the input. Other strides: a row
    // is padded once into `row` and each column phase read out of it with a constant stride
    // (no bounds per phase); rows wider than the buffer take the bounded copy per phase.
    float row[ROW_FLOATS];
    int64_t width = p->wq * p->sw, lo, hi; // the padded row, columns [lo, hi) from the input
    bool padded_row = p->sw > 1 && width <= ROW_FLOATS;
    cg_conv_tap_range(-p->pad_left, 1, p->wi, width, &lo, &hi);
    for (int64_t a = 0; a < p->ph; a++) {
        int64_t i0, i1; // the plane rows inside the input: input rows a + sh*i - pad_top
        cg_conv_tap_range(a - p->pad_top, p->sh, p->hi, p->hq, &i0, &i1);
        float *plane = planes + a * p->pw * p->wq; // phase (a, 0)
        for (int64_t i = 0; i < p->hq; i++)        // the rows above and below the input: zeros
            if (i < i0 || i >= i1)
                memset(plane + i * p->row_stride, 0, (size_t)(p->pw * p->wq) * sizeof(float));
        // src[q]: padded column q of input row r
        const float *src = input + (a + p->sh * i0 - p->pad_top) * p->wi - p->pad_left;
        float *dst = plane + i0 * p->row_stride;
        int64_t rows = i1 - i0, src_stride = p->sh * p->wi;
        if (p->sw == 1) {
            pad_rows(dst, p->row_stride, src, src_stride, rows, lo, hi, width);
            continue;
        }
        if (p->sw == 2) {
            split2(dst, p->row_stride, p->wq, src, src_stride, rows, lo, hi, p->wq, (int)p->pw);
            continue;
        }
        for (int64_t i = 0; i < rows; i++, src += src_stride, dst += p->row_stride) {
            if (padded_row) {
                pad_rows(row, 0, src, 0, 1, lo, hi, width);
                for (int64_t b = 0; b < p->pw; b++)
                    cg_conv_strided_copy(dst + b * p->wq, row + b, 0, p->wq, p->sw);
                continue;
            }
            for (int64_t b = 0; b < p->pw; b++) { // columns b, b + sw, ... of the padded row
                int64_t l, h;
                cg_conv_tap_range(b - p->pad_left, p->sw, p->wi, p->wq, &l, &h);
                float *d = dst + b * p->wq;
                for (int64_t j = 0; j < l; j++) d[j] = 0.0f;
                cg_conv_strided_copy(d, src + b, l, h, p->sw);
                for (int64_t j = h; j < p->wq; j++) d[j] = 0.0f;
            }
        }
    }
}

// ---- the driver ------------------------------------------------------------------------------

// The kernels of one call: row or channel blocks for the forward, weight-gradient blocks.
typedef struct kernels {
    cg_direct_rows_fn rows;
    cg_direct_channels_fn channels;
    cg_direct_wgrad_fn wgrad;
    cg_direct_wgrad_channels_fn wgrad_channels;
    cg_direct_transpose_fn transpose;
    cg_direct_pad_rows_fn pad_rows;
    cg_direct_split2_fn split2;
} kernels;

// Output channels [ob*cb, ob*cb + cb) of group gi of one image: MAX_S strips at a time (row
// blocks) or a row segment at a time (channel blocks).
static void run_block(const direct *p, const kernels *k, const float *planes, const int64_t *toff,
                      const float *wpack, const float *bias, float *out, int64_t gi, int64_t ob) {
    int64_t oc0 = gi * p->og + ob * p->cb, out_plane = p->ho * p->wo;
    int ocs = (int)(p->og - ob * p->cb < p->cb ? p->og - ob * p->cb : p->cb);
    const float *in = planes + gi * p->cg * p->channel_floats;
    const float *w = wpack + (gi * p->blocks + ob) * p->taps * p->cb;
    const float *b = bias ? bias + oc0 : NULL;
    out += oc0 * out_plane;
    if (p->channel_blocks) {
        for (int64_t oh = 0; oh < p->ho; oh++)
            for (int64_t ow0 = 0; ow0 < p->wo; ow0 += p->segment) {
                int n = (int)(p->wo - ow0 < p->segment ? p->wo - ow0 : p->segment);
                k->channels(n, p->taps, toff, w, in + oh * p->row_stride + ow0,
                            out + oh * p->wo + ow0, out_plane, ocs, b);
            }
    } else {
        for (int64_t s0 = 0; s0 < p->strips; s0 += MAX_S) {
            strips s = {0};
            for (int64_t q = s0; q < s0 + MAX_S && q < p->strips; q++, s.count++) {
                int64_t oh = q / p->strips_per_row, ow0 = q % p->strips_per_row * LANES;
                s.in[s.count] = oh * p->row_stride + ow0;
                s.out[s.count] = oh * p->wo + ow0;
                s.valid[s.count] = (int)(p->wo - ow0 < LANES ? p->wo - ow0 : LANES);
            }
            k->rows(p->taps, toff, w, in, &s, out, out_plane, ocs, b);
        }
    }
    // The fused ReLU: the block's ocs planes were just stored and are still in L1/L2.
    if (p->relu) cg_relu_floats(out, out, ocs * out_plane);
}

// The weight gradient of images [0, nb) of a chunk, part `part` of `parts` of them, for
// output channels [ob*8, ob*8 + 8) of group gi, into the part's lane sums (O, taps, 16):
// a few images at a time (their output gradient for the 8 channels stays in L1), every tap
// block for them.
static void run_wgrad_block(const direct *p, cg_direct_wgrad_fn kernel, const float *planes,
                            const float *dy, const int64_t *toff, float *sums, int64_t nb,
                            int64_t part, int64_t parts, int64_t gi, int64_t ob) {
    int64_t i0 = part * nb / parts, i1 = (part + 1) * nb / parts;
    int64_t oc0 = gi * p->og + ob * OB, out_plane = p->ho * p->wo;
    int ocs = (int)(p->og - ob * OB < OB ? p->og - ob * OB : OB);
    int64_t step = WGRAD_L1_FLOATS / (OB * out_plane);
    step = step < 1 ? 1 : step;
    for (int64_t n = i0; n < i1; n += step) {
        int64_t m = i1 - n < step ? i1 - n : step;
        const float *in = planes + n * p->image_floats + gi * p->cg * p->channel_floats;
        const float *y = dy + (n * p->co + oc0) * out_plane;
        for (int64_t t0 = 0; t0 < p->taps; t0 += MAX_T)
            kernel(p, m, in, p->image_floats, y, p->co * out_plane, toff + t0,
                   (int)(p->taps - t0 < MAX_T ? p->taps - t0 : MAX_T), ocs,
                   sums + (oc0 * p->taps + t0) * LANES, p->taps);
    }
}

// The channel weight gradient of images [0, nb) of a chunk, part `part` of `parts` of them,
// for output channels [ob*cb, ob*cb + cb) of group gi and taps [tb*wt, tb*wt + wt), added to
// the part's gradient (O, taps). dyt: the chunk's transposed output gradient.
static void run_wgrad_channels(const direct *p, cg_direct_wgrad_channels_fn kernel,
                               const float *planes, const float *dyt, const int64_t *toff,
                               float *dweight, int64_t nb, int64_t part, int64_t parts, int64_t gi,
                               int64_t ob, int64_t tb) {
    int64_t i0 = part * nb / parts, i1 = (part + 1) * nb / parts, P = p->ho * p->wo;
    int64_t oc0 = gi * p->og + ob * p->cb, t0 = tb * p->wt;
    int ocs = (int)(p->og - ob * p->cb < p->cb ? p->og - ob * p->cb : p->cb);
    int nt = (int)(p->taps - t0 < p->wt ? p->taps - t0 : p->wt);
    float dw[WGRAD_BLOCK_FLOATS];
    if (i1 <= i0) return;
    kernel(p, i1 - i0, planes + i0 * p->image_floats + gi * p->cg * p->channel_floats,
           p->image_floats, dyt + i0 * P * p->co + oc0, P * p->co, toff + t0, nt, dw);
    for (int o = 0; o < ocs; o++)
        for (int t = 0; t < nt; t++) dweight[(oc0 + o) * p->taps + t0 + t] += dw[t * p->cb + o];
}

// Image channels [c0, c1) -> their phase planes; the slack after the last row with the last
// channel (read by the last strips, never stored).
static void prepare_image(const direct *p, const kernels *k, const float *image, float *planes,
                          int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++)
        prepare_channel(p, k->pad_rows, k->split2, image + c * p->hi * p->wi,
                        planes + c * p->channel_floats);
    if (c1 == p->ci)
        memset(planes + p->hq * p->row_stride, 0,
               (size_t)(p->image_floats - p->hq * p->row_stride) * sizeof(float));
}

// The operands of a direction's jobs.
typedef struct direct_job {
    const direct *p;
    const kernels *k;
    const float *input, *wpack, *bias, *dy;
    const int64_t *toff;
    float *out, *planes, *sums, *dyt;
    double *bias_sums;
    int64_t parts, lanes, nb, n0, tblocks;
    int64_t region; // weight gradient split by images: floats of planes per part
} direct_job;

// Part `part` of the forward's work items (image, channel block), in its own planes: the
// images of its items are copied there and their blocks run while the copy is still in
// L1/L2, with no barrier between copying and computing. A part's items are consecutive, so
// it copies each image once (an image whose blocks two parts share is copied by both: a
// batch of 1 is copied in full by every part).
static void forward_part(void *ctx, int64_t part) {
    const direct_job *j = ctx;
    const direct *p = j->p;
    int64_t blocks = p->groups * p->blocks, in_image = p->ci * p->hi * p->wi;
    int64_t items = p->batch * blocks, have = -1;
    float *mine = j->planes + part * p->image_floats;
    for (int64_t item = cg_part_begin(items, part, j->parts);
         item < cg_part_begin(items, part + 1, j->parts); item++) {
        int64_t n = item / blocks, gb = item % blocks;
        if (n != have) prepare_image(p, j->k, j->input + n * in_image, mine, 0, p->ci), have = n;
        run_block(p, j->k, mine, j->toff, j->wpack, j->bias, j->out + n * p->co * p->ho * p->wo,
                  gb / p->blocks, gb % p->blocks);
    }
}

// The forward (or transposed) direction in `threads` parts (planes holds one image each).
static void forward(const direct *p, const kernels *k, const float *input, const float *wpack,
                    const int64_t *toff, const float *bias, float *out, float *planes,
                    int threads) {
    direct_job j = {.p = p,
                    .k = k,
                    .input = input,
                    .wpack = wpack,
                    .bias = bias,
                    .toff = toff,
                    .out = out,
                    .planes = planes,
                    .parts = threads};
    cg_parallel_parts(threads, forward_part, &j);
}

// The weight gradient, a chunk of images at a time (sized to stay in L2: every work item
// rereads all of it): the chunk's phase planes (and, for channel blocks, its output
// gradient transposed), then work items (part, channel block[, tap block]) into the parts'
// sums (lanes floats per weight).
// The chunk's phase planes, (image, channel) pairs [begin, end).
static void prepare_chunk(void *ctx, int64_t begin, int64_t end) {
    const direct_job *j = ctx;
    const direct *p = j->p;
    int64_t in_image = p->ci * p->hi * p->wi;
    for (int64_t nc = begin; nc < end; nc++) {
        int64_t n = nc / p->ci, c = nc % p->ci;
        prepare_image(p, j->k, j->input + (j->n0 + n) * in_image, j->planes + n * p->image_floats,
                      c, c + 1);
    }
}

// The chunk's output gradient transposed, images [begin, end) (and their channel sums).
static void transpose_chunk(void *ctx, int64_t begin, int64_t end) {
    const direct_job *j = ctx;
    const direct *p = j->p;
    int64_t P = p->ho * p->wo;
    for (int64_t n = begin; n < end; n++)
        j->k->transpose(j->dy + n * p->co * P, p->co, P, j->dyt + n * P * p->co,
                        j->bias_sums ? j->bias_sums + (1 + n) * p->co : NULL);
}

// Work items [begin, end) of (part, channel block[, tap block]): consecutive items are one
// part's blocks.
static void wgrad_items(void *ctx, int64_t begin, int64_t end) {
    const direct_job *j = ctx;
    const direct *p = j->p;
    int64_t blocks = p->groups * p->blocks, tb = j->tblocks;
    int64_t sums_size = p->co * p->taps * j->lanes;
    for (int64_t item = begin; item < end; item++) {
        int64_t part = item / (blocks * tb), r = item % (blocks * tb), gb = r / tb;
        float *sums = j->sums + part * sums_size;
        if (p->channel_blocks)
            run_wgrad_channels(p, j->k->wgrad_channels, j->planes, j->dyt, j->toff, sums, j->nb,
                               part, j->parts, gb / p->blocks, gb % p->blocks, r % tb);
        else
            run_wgrad_block(p, j->k->wgrad, j->planes, j->dy, j->toff, sums, j->nb, part, j->parts,
                            gb / p->blocks, gb % p->blocks);
    }
}

// Part `part` of a weight gradient split by images: its share of the batch, a chunk of j->nb
// images at a time in its own planes and into its own sums. The thread that prepares an
// image's planes is the one that reads them (on this VM's two cores, with no shared cache,
// moving them across made config b's 2-thread weight gradient slower than 1 thread), and
// the part runs with no barrier: chunks in lockstep across the threads cost a barrier per
// step, and the ResNet's 2-thread weight gradients took as long as at 1 thread.
static void wgrad_part(void *ctx, int64_t part) {
    const direct_job *all = ctx;
    const direct *p = all->p;
    int64_t P = p->ho * p->wo, end = cg_part_begin(p->batch, part + 1, all->parts);
    direct_job j = *all;
    j.parts = 1;
    j.planes = all->planes + part * all->region;
    j.dyt = j.planes + all->nb * p->image_floats; // then cb floats of slack, read, unused
    j.sums = all->sums + part * p->co * p->taps * all->lanes;
    if (p->channel_blocks) memset(j.dyt + all->nb * P * p->co, 0, (size_t)p->cb * sizeof(float));
    for (int64_t n0 = cg_part_begin(p->batch, part, all->parts); n0 < end; n0 += all->nb) {
        j.dy = all->dy + n0 * p->co * P;
        j.bias_sums = all->bias_sums ? all->bias_sums + n0 * p->co : NULL;
        j.n0 = n0, j.nb = end - n0 < all->nb ? end - n0 : all->nb;
        prepare_chunk(&j, 0, j.nb * p->ci);
        if (p->channel_blocks) transpose_chunk(&j, 0, j.nb);
        wgrad_items(&j, 0, p->groups * p->blocks * j.tblocks);
    }
}

// A weight gradient split by work items: one chunk of images at a time, its planes
// prepared by all threads, then its (channel block, tap block) items shared out (images
// too large to share a chunk between threads: config c).
static void wgrad_by_items(direct_job *j, int64_t chunk) {
    const direct *p = j->p;
    int64_t P = p->ho * p->wo, blocks = p->groups * p->blocks;
    const float *dy = j->dy;
    double *bias_sums = j->bias_sums;
    j->dyt = j->planes + chunk * p->image_floats; // then cb floats of slack, read, unused
    if (p->channel_blocks) memset(j->dyt + chunk * P * p->co, 0, (size_t)p->cb * sizeof(float));
    for (int64_t n0 = 0; n0 < p->batch; n0 += chunk) {
        int64_t nb = p->batch - n0 < chunk ? p->batch - n0 : chunk;
        j->dy = dy + n0 * p->co * P, j->n0 = n0, j->nb = nb;
        cg_parallel_for(nb * p->ci, 0, prepare_chunk, j);
        if (p->channel_blocks) cg_parallel_for(nb, 0, transpose_chunk, j);
        cg_parallel_for(blocks * j->tblocks, 0, wgrad_items, j);
        // the chunk's per-image channel sums, in image order (any thread count)
        for (int64_t n = 0; bias_sums && n < nb; n++)
            for (int64_t o = 0; o < p->co; o++) bias_sums[o] += bias_sums[(1 + n) * p->co + o];
    }
}

// The kernels of plan p for this CPU, or the portable loops (cg_conv_direct_use_portable).
static kernels kernels_of(const direct *p) {
    return (kernels){cg_direct_rows_kernel(portable_only),
                     cg_direct_channels_kernel(portable_only),
                     cg_direct_wgrad_kernel(portable_only),
                     cg_direct_wgrad_channels_kernel(portable_only, p->cb),
                     cg_direct_transpose_kernel(portable_only),
                     cg_direct_pad_rows_kernel(portable_only),
                     cg_direct_split2_kernel(portable_only)};
}

// One below PARALLEL_MACS or inside a part of a job.
int cg_direct_threads(const direct *p) {
    int64_t macs = p->batch * p->co * p->ho * p->wo * p->taps;
    return macs >= PARALLEL_MACS && !cg_in_parallel() ? cg_num_threads() : 1;
}

void cg_direct_prepare(const direct *p, const float *image, float *planes) {
    kernels k = kernels_of(p);
    prepare_image(p, &k, image, planes, 0, p->ci);
}

void cg_direct_run_image(const direct *p, const float *planes, const int64_t *toff,
                         const float *wpack, const float *bias, float *out) {
    kernels k = kernels_of(p);
    for (int64_t gb = 0; gb < p->groups * p->blocks; gb++)
        run_block(p, &k, planes, toff, wpack, bias, out, gb / p->blocks, gb % p->blocks);
}

int cg_direct_forward(const direct *p, bool transposed, const float *input, const float *weight,
                      const float *bias, float *out) {
    int threads = cg_direct_threads(p);
    // Packed weights, the tap offsets (int64: two floats each, 8-byte aligned), then one
    // image's planes per thread.
    int64_t w_floats = p->groups * p->blocks * p->taps * p->cb;
    int64_t toff_at = (w_floats + 1) / 2 * 2, head = (toff_at + 2 * p->taps + 15) / 16 * 16;
    float *wpack = cg_alloc((size_t)(head + threads * p->image_floats) * sizeof(float));
    if (!wpack) return -1;
    int64_t *toff = (int64_t *)(wpack + toff_at);
    cg_direct_tap_offsets(p, toff);
    kernels k = kernels_of(p);
    cg_direct_pack_weights(p, transposed, weight, wpack);
    forward(p, &k, input, wpack, toff, bias, out, wpack + head, threads);
    cg_dealloc(wpack);
    return 0;
}

// The weight gradient of g: dweight (and dbias) += the sums over the batch.
static int weight_gradient(const cg_conv_geometry *g, const cg_conv_operands *x) {
    direct p = cg_direct_plan(g, CG_CONV_WEIGHT_GRAD);
    int64_t P = p.ho * p.wo;
    int threads = cg_direct_threads(&p);
    int64_t blocks = p.groups * p.blocks;
    // Chunks of images' planes (and transposed output gradient, for channel blocks) sized
    // for L2, split between the threads by images (each part its own chunks, wgrad_part)
    // unless a chunk holds fewer images than threads and there are blocks to share.
    bool wchannels = p.channel_blocks;
    int64_t dyt_floats = wchannels ? P * p.co : 0,
            tblocks = wchannels ? cg_direct_ceil_div(p.taps, p.wt) : 1;
    int64_t chunk = WGRAD_CHUNK_FLOATS / (p.image_floats + dyt_floats);
    chunk = chunk < 1 ? 1 : chunk > p.batch ? p.batch : chunk;
    int64_t parts = chunk >= threads || blocks * tblocks < 4 * threads ? threads : 1;
    if (parts > 1) chunk = chunk / parts < 1 ? 1 : chunk / parts; // per part
    int64_t lanes = wchannels ? 1 : LANES, sums_size = p.co * p.taps * lanes;
    // conv2d's bias gradient, summed by the transposes of the channel weight gradient:
    // the total, then each image (of the batch, or of a chunk split by items; doubles).
    int64_t bias_images = parts > 1 || threads == 1 ? p.batch : chunk;
    int64_t bias_doubles = wchannels && x->dbias ? (1 + bias_images) * p.co : 0;
    // Each part's sums, the tap offsets (int64: two floats each, 8-byte aligned), the bias
    // sums, then each part's planes (16-float aligned).
    int64_t w_floats = parts * sums_size;
    int64_t toff_at = (w_floats + 1) / 2 * 2, bias_at = toff_at + 2 * p.taps;
    int64_t head = (bias_at + 2 * bias_doubles + 15) / 16 * 16;
    int64_t region = (chunk * (p.image_floats + dyt_floats) + p.cb + 15) / 16 * 16;
    float *wpack = cg_alloc((size_t)(head + parts * region) * sizeof(float));
    if (!wpack) return -1;
    int64_t *toff = (int64_t *)(wpack + toff_at);
    double *bias_sums = bias_doubles ? (double *)(wpack + bias_at) : NULL;
    cg_direct_tap_offsets(&p, toff);
    kernels k = kernels_of(&p);
    memset(wpack, 0, (size_t)w_floats * sizeof(float));
    if (bias_sums) memset(bias_sums, 0, (size_t)p.co * sizeof(double));
    direct_job j = {.p = &p,
                    .k = &k,
                    .input = x->image,
                    .dy = x->columns,
                    .toff = toff,
                    .planes = wpack + head,
                    .sums = wpack,
                    .bias_sums = bias_sums,
                    .parts = parts,
                    .lanes = lanes,
                    .nb = chunk,
                    .tblocks = tblocks,
                    .region = region};
    if (parts > 1 || threads == 1) {
        cg_parallel_parts(parts, wgrad_part, &j);
        // the per-image channel sums, in image order (any thread count)
        for (int64_t n = 0; bias_sums && n < p.batch; n++)
            for (int64_t o = 0; o < p.co; o++) bias_sums[o] += bias_sums[(1 + n) * p.co + o];
    } else {
        wgrad_by_items(&j, chunk);
    }
    if (x->dbias && bias_sums)
        for (int64_t o = 0; o < p.co; o++) x->dbias[o] += (float)bias_sums[o];
    else if (x->dbias) // row blocks read the output gradient in place: a pass of its own
        cg_conv_bias_grad(x->columns, x->dbias, p.batch, p.co, P);
    // dweight += the sums, part by part in order (fixed for a given thread count)
    for (int64_t i = 0; i < p.co * p.taps; i++) {
        float total = 0.0f;
        for (int64_t part = 0; part < parts; part++) {
            const float *lane = wpack + part * sums_size + i * lanes;
            float sum = 0.0f;
            for (int l = 0; l < lanes; l++) sum += lane[l];
            total += sum;
        }
        x->out[i] += total;
    }
    cg_dealloc(wpack);
    return 0;
}

int cg_conv_direct(cg_conv_direction d, const cg_conv_geometry *g, const cg_conv_operands *x) {
    switch (d) {
    case CG_CONV_FORWARD: {
        direct p = cg_direct_plan(g, d);
        p.relu = x->relu;
        return cg_direct_forward(&p, false, x->image, x->weight, x->bias, x->out);
    }
    case CG_CONV_TRANSPOSED:
        return cg_direct_transposed(g, x);
    case CG_CONV_WEIGHT_GRAD:
        return weight_gradient(g, x);
    }
    return -1;
}
