// kernels/conv_direct_plan.c - the plan of a direct convolution (conv_direct.c): its phase
// planes, register blocks and strips from the geometry, whether it pays, and its packed
// weights and tap offsets.
#include "conv_direct_internal.h"
#include "conv_kernels.h"

// The last strip of an image reads up to LANES - 1 floats past its plane's last row.
#define SLACK (2 * LANES)
// AUTO takes the direct path (cg_conv_direct_fills_vectors) when a strip's lanes are at least this
// full (in 1/16ths): outputs 12 wide and more (7-wide rows would waste more than half of every
// vector).
#define MIN_LANES 12
// ... and its 8-channel blocks at least this full (in 1/8ths): a convolution to one channel
// (the input gradient of a first layer) would compute 8 rows to store 1.
#define MIN_ROWS 6
// ... and, for a weight gradient on row blocks, at most this many taps per group: shallow
// ones win (1 thread, against im2col + GEMM: the small CNN's 9 and 72 taps 2.3x and 1.7x),
// deep ones lost (288 taps: 0.6x, 144: 0.75x), where the GEMM's packed panels reuse each
// load better than 3 taps x 8 channels of registers can. (Channel blocks have no limit:
// config b's 288 taps 1.5x, d's 144 1.4x, a's 25 2x.) Deeper ones with fewer than 16 output
// channels per group take the 16-channel blocks instead, even on few of their lanes: 288
// taps, batch 64, 14x14, 1 thread, against im2col + GEMM (whose GEMM has as few rows):
// 8 channels 0.80 against 3.26 ms, 4 0.77 against 1.95, 1 0.75 against 1.92.
#define MAX_WGRAD_TAPS 96
// Channel blocks (32 output channels in two vectors) from this many output channels per
// group up: at least 3/4 of a block's lanes used.
#define MIN_CHANNEL_BLOCK 24
// ... and for the weight gradient from 16 up: half a block's lanes beat im2col + GEMM, whose
// column matrix the small planes of the deep layers make as large as the multiply (the
// ResNet's 16 -> 16 channel 28x28 layers, 144 taps, too deep for row blocks: its 1-thread
// step 43.5 -> 40.4 ms, LeNet-5's 2.58 -> 2.25 ms, best of 5).
#define MIN_WGRAD_CHANNEL_BLOCK 16
// ... and when one image's phase copy stays this small (in floats; 16 MB).
#define MAX_IMAGE_FLOATS ((int64_t)1 << 22)

// The plan of direction d of g (transposed: its phase with the most taps).
direct cg_direct_plan(const cg_conv_geometry *g, cg_conv_direction d) {
    if (d == CG_CONV_TRANSPOSED) return cg_direct_transposed_plan(g);
    direct p = {.batch = g->batch, .groups = g->groups, .kh = g->kernel_h, .kw = g->kernel_w};
    p.dh = g->dilation_h, p.dw = g->dilation_w;
    p.ci = g->image_channels, p.hi = g->image_h, p.wi = g->image_w;
    p.co = g->cols_channels, p.ho = g->cols_h, p.wo = g->cols_w;
    p.sh = g->stride_h, p.sw = g->stride_w;
    p.pad_top = g->pad_top, p.pad_left = g->pad_left;
    p.istep = p.jstep = 1, p.okw = p.kw, p.okk = p.kh * p.kw;
    cg_direct_plan_finish(&p, d);
    return p;
}

void cg_direct_plan_finish(direct *p, cg_conv_direction d) {
    // Phase a of the rows is read by tap i when i*dh = a (mod sh): only phase 0 when the
    // kernel is 1 high or dh is a multiple of sh (config d: stride 2, dilation 2).
    p->ph = p->kh == 1 || p->dh % p->sh == 0 ? 1 : p->sh;
    p->pw = p->kw == 1 || p->dw % p->sw == 0 ? 1 : p->sw;
    // The padded frame covers every tap of every output: ((o-1)*s + d*(k-1) + 1) per side.
    cg_direct_set_frame(p, p->pad_top, p->pad_left,
                        cg_direct_ceil_div((p->ho - 1) * p->sh + p->dh * (p->kh - 1) + 1, p->sh),
                        cg_direct_ceil_div((p->wo - 1) * p->sw + p->dw * (p->kw - 1) + 1, p->sw));
    p->cg = p->ci / p->groups, p->og = p->co / p->groups;
    p->taps = p->cg * p->kh * p->kw;
    // Channel blocks once there are enough output channels to fill most of 32 (half, for
    // the weight gradient); for a weight gradient also on fewer when its taps are too deep
    // for row blocks. Groups of at most 16 channels get the weight gradient's narrow block:
    // 16 channels (one vector) x 28 taps.
    bool wgrad = d == CG_CONV_WEIGHT_GRAD;
    p->channel_blocks = wgrad ? p->og >= MIN_WGRAD_CHANNEL_BLOCK || p->taps > MAX_WGRAD_TAPS
                              : p->og >= MIN_CHANNEL_BLOCK;
    bool narrow = wgrad && p->channel_blocks && p->og <= CB16;
    p->cb = !p->channel_blocks ? OB : narrow ? CB16 : CB;
    p->wt = narrow ? WT16 : WT;
    p->blocks = cg_direct_ceil_div(p->og, p->cb);
    p->segments_per_row = cg_direct_ceil_div(p->wo, CR);
    p->segment = cg_direct_ceil_div(p->wo, p->segments_per_row);
    p->strips_per_row = cg_direct_ceil_div(p->wo, LANES);
    p->strips = p->ho * p->strips_per_row;
}

// Any plan's frame (the phase planes' layout follows from it).
void cg_direct_set_frame(direct *p, int64_t pad_top, int64_t pad_left, int64_t hq, int64_t wq) {
    p->pad_top = pad_top, p->pad_left = pad_left, p->hq = hq, p->wq = wq;
    p->channel_floats = p->ph * p->pw * p->wq;
    p->row_stride = p->ci * p->channel_floats;
    p->image_floats = (p->hq * p->row_stride + SLACK + 15) / 16 * 16;
}

bool cg_conv_direct_fits(const cg_conv_geometry *g) {
    return g->batch > 0 && g->cols_h > 0 && g->cols_w > 0 && g->image_h > 0 && g->image_w > 0 &&
           g->image_channels > 0 && g->cols_channels > 0;
}

bool cg_conv_direct_fills_vectors(cg_conv_direction d, const cg_conv_geometry *g) {
    direct p = cg_direct_plan(g, d);
    bool pointwise = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pad_top == 0 &&
                     p.pad_left == 0 && p.hi == p.ho && p.wi == p.wo;
    bool wgrad = d == CG_CONV_WEIGHT_GRAD;
    int64_t lanes = p.wo * LANES / (p.strips_per_row * LANES);      // used lanes per strip, /16
    int64_t rows = p.og * OB / (cg_direct_ceil_div(p.og, OB) * OB); // used rows per row block, /8
    // Channel blocks pay (for a weight gradient also on fewer than 16 channels with taps
    // too deep for row blocks: see MAX_WGRAD_TAPS); row blocks with full lanes and rows,
    // and for a weight gradient few taps.
    bool rows_fill = lanes >= MIN_LANES && rows >= MIN_ROWS && (!wgrad || p.taps <= MAX_WGRAD_TAPS);
    return !pointwise && (p.channel_blocks || rows_fill) && p.image_floats <= MAX_IMAGE_FLOATS;
}

// wpack[(gi*blocks + ob)][t][o] = weight of output channel gi*og + ob*8 + o at tap t = (c, i, j)
// of the group (zero past og): the 8 broadcasts of one tap are one cache line's half.
void cg_direct_pack_weights(const direct *p, bool transposed, const float *weight, float *wpack) {
    // Where output channel oc's weight for input channel c starts (the op's tap 0), and the
    // step between consecutive oc: the conv weight is (O, C/g, kh, kw), read with O and C
    // swapped when transposed.
    int64_t oc_step = transposed ? p->okk : p->cg * p->okk,
            c_step = transposed ? p->og * p->okk : p->okk;
    for (int64_t gi = 0; gi < p->groups; gi++)
        for (int64_t ob = 0; ob < p->blocks; ob++) {
            int64_t oc0 = ob * p->cb, valid = p->og - oc0 < p->cb ? p->og - oc0 : p->cb;
            const float *group =
                weight + (transposed ? gi * p->cg * p->og : gi * p->og * p->cg) * p->okk;
            for (int64_t c = 0; c < p->cg; c++)
                for (int64_t i = 0; i < p->kh; i++)
                    for (int64_t j = 0; j < p->kw; j++, wpack += p->cb) {
                        // the op's tap of this plan's tap (i, j)
                        int64_t ij = (p->i0 + i * p->istep) * p->okw + p->j0 + j * p->jstep;
                        const float *src = group + c * c_step + oc0 * oc_step + ij;
                        for (int64_t o = 0; o < valid; o++) wpack[o] = src[o * oc_step];
                        for (int64_t o = valid; o < p->cb; o++) wpack[o] = 0.0f; // past og
                    }
        }
}

// toff[t]: where tap t = (c, i, j) of the group reads, relative to output (0, 0) of the
// group's first phase plane.
void cg_direct_tap_offsets(const direct *p, int64_t *toff) {
    for (int64_t c = 0, t = 0; c < p->cg; c++)
        for (int64_t i = 0; i < p->kh; i++)
            for (int64_t j = 0; j < p->kw; j++, t++) {
                int64_t a = i * p->dh % p->sh, qh = i * p->dh / p->sh; // a < ph
                int64_t b = j * p->dw % p->sw, qw = j * p->dw / p->sw; // b < pw
                toff[t] = ((c * p->ph + a) * p->pw + b) * p->wq + qh * p->row_stride + qw;
            }
}
