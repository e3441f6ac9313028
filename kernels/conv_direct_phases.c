// kernels/conv_direct_phases.c - the transposed direction of a strided convolution, direct:
// one stride-1 convolution per output phase, no column matrix.
//
// conv_transpose2d with stride s (and conv2d's input gradient) sends input y to outputs
// y*s - pad + i*d for each tap i. Output Y = r + s*y' (its phase r < s) is reached only by
// the taps i with s | r + pad - i*d, from input y' + (r + pad - i*d) / s. So the outputs of
// one phase are a stride-1 convolution of the input with those taps (every s / gcd(s, d)-th
// tap, flipped, at dilation d / gcd(s, d)), which the direct blocks run as they are; its
// output plane is then written to every s-th output row and column. Each output belongs to
// exactly one phase, so the outputs are written once: no col2im, whose scatter-adds of short
// strided rows (7-14 floats) were 28-31% of a stride-2 autoencoder's evaluation, and no
// zeroing of the image first. A phase no tap reaches (a kernel smaller than the stride) is
// the bias. For stride 1 there is one phase, the whole output, written in place.
#include <stdint.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "conv_direct_internal.h"
#include "elementwise.h"

// One dimension of phase r: k taps at dilation d from the input's origin pad in the padded
// frame; sub-tap m is the op's tap first + m*step; `out` outputs.
typedef struct phase_dim {
    int64_t k, d, pad, first, step, out;
} phase_dim;

static int64_t floor_mod(int64_t a, int64_t s) {
    return (a % s + s) % s;
}

// size: the output's extent; s, k, d, pad: the op's stride, kernel, dilation and padding.
static phase_dim phase_dim_of(int64_t r, int64_t size, int64_t s, int64_t k, int64_t d,
                              int64_t pad) {
    phase_dim q = {.d = 1, .step = -1, .out = r < size ? (size - r + s - 1) / s : 0};
    int64_t offset = 0; // the first sub-tap's input offset: (r + pad - first*d) / s
    for (int64_t i = k - 1; i >= 0; i--) { // descending taps read ascending inputs
        if (floor_mod(r + pad - i * d, s) != 0) continue;
        if (q.k == 0)
            q.first = i, offset = (r + pad - i * d) / s;
        else if (q.k == 1)
            q.step = i - q.first, q.d = (q.first - i) * d / s;
        q.k++;
    }
    q.pad = -offset;
    return q;
}

direct cg_direct_phase_plan(const cg_conv_geometry *g, int64_t ry, int64_t rx) {
    phase_dim h = phase_dim_of(ry, g->image_h, g->stride_h, g->kernel_h, g->dilation_h, g->pad_top);
    phase_dim w =
        phase_dim_of(rx, g->image_w, g->stride_w, g->kernel_w, g->dilation_w, g->pad_left);
    direct p = {.batch = g->batch, .groups = g->groups, .sh = 1, .sw = 1};
    p.ci = g->cols_channels, p.hi = g->cols_h, p.wi = g->cols_w;
    p.co = g->image_channels, p.ho = h.out, p.wo = w.out;
    p.kh = h.k, p.dh = h.d, p.pad_top = h.pad, p.i0 = h.first, p.istep = h.step;
    p.kw = w.k, p.dw = w.d, p.pad_left = w.pad, p.j0 = w.first, p.jstep = w.step;
    p.okw = g->kernel_w, p.okk = g->kernel_h * g->kernel_w;
    cg_direct_plan_finish(&p, CG_CONV_TRANSPOSED);
    return p;
}

// The phase with the most taps (the one the others' costs are bounded by): the plan the
// strategy's shape test looks at.
direct cg_direct_transposed_plan(const cg_conv_geometry *g) {
    int64_t best[2] = {0, 0}, most[2] = {-1, -1};
    for (int dim = 0; dim < 2; dim++)
        for (int64_t r = 0; r < (dim ? g->stride_w : g->stride_h); r++) {
            phase_dim q = dim ? phase_dim_of(r, g->image_w, g->stride_w, g->kernel_w, g->dilation_w,
                                             g->pad_left)
                              : phase_dim_of(r, g->image_h, g->stride_h, g->kernel_h, g->dilation_h,
                                             g->pad_top);
            if (q.out > 0 && q.k > most[dim]) most[dim] = q.k, best[dim] = r;
        }
    return cg_direct_phase_plan(g, best[0], best[1]);
}

// One output phase, in the frame all phases share: its plan, its first output row and
// column, its packed weights and its tap offsets in that frame.
typedef struct phase {
    direct p;
    int64_t ry, rx;
    int64_t shift; // where its padded (0, 0) is in the frame
    float *wpack;
    int64_t *toff;
} phase;

typedef struct phases_job {
    const cg_conv_geometry *g;
    const direct *frame;
    const phase *ph;
    int64_t n, parts, scratch; // phases, parts, floats of scratch per part
    const float *input, *bias;
    float *out, *scratch_at;
} phases_job;

// A phase no tap reaches: the bias (or 0), through the fused ReLU; one image (co, ho, wo).
static void bias_only(const direct *p, const float *bias, float *out) {
    int64_t plane = p->ho * p->wo;
    for (int64_t o = 0; o < p->co; o++, out += plane) {
        float b = bias ? bias[o] : 0.0f;
        for (int64_t i = 0; i < plane; i++) out[i] = b;
        if (p->relu) cg_relu_floats(out, out, plane);
    }
}

// One image's phase outputs (co, ho, wo) to its rows ry + sh*y, columns rx + sw*x.
static void scatter(const cg_conv_geometry *g, const phase *f, const float *src, float *image) {
    const int64_t H = g->image_h, W = g->image_w, sh = g->stride_h, sw = g->stride_w;
    for (int64_t o = 0; o < f->p.co; o++) {
        float *dst = image + o * H * W + f->ry * W + f->rx;
        for (int64_t y = 0; y < f->p.ho; y++, src += f->p.wo, dst += sh * W)
            for (int64_t x = 0; x < f->p.wo; x++) dst[x * sw] = src[x];
    }
}

// Part `part` of the (image, phase) items: each image prepared once in the shared frame,
// then its phases run and scattered while their outputs are in L1/L2.
static void phases_part(void *ctx, int64_t part) {
    const phases_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    int64_t items = g->batch * j->n, have = -1;
    int64_t in_image = g->cols_channels * g->cols_h * g->cols_w;
    int64_t out_image = g->image_channels * g->image_h * g->image_w;
    float *planes = j->scratch_at + part * j->scratch, *buf = planes + j->frame->image_floats;
    for (int64_t item = cg_part_begin(items, part, j->parts);
         item < cg_part_begin(items, part + 1, j->parts); item++) {
        int64_t n = item / j->n;
        const phase *f = &j->ph[item % j->n];
        if (f->p.taps == 0) {
            bias_only(&f->p, j->bias, buf);
        } else {
            if (n != have) cg_direct_prepare(j->frame, j->input + n * in_image, planes), have = n;
            cg_direct_run_image(&f->p, planes, f->toff, f->wpack, j->bias, buf);
        }
        scatter(g, f, buf, j->out + n * out_image);
    }
}

// The phases that have outputs, their plans moved into one frame covering all their reads
// (so an image is prepared once for all of them); frame: that frame's plan. Returns how
// many phases.
static int64_t plan_phases(const cg_conv_geometry *g, bool relu, phase *ph, direct *frame) {
    int64_t n = 0, top = INT64_MIN, left = INT64_MIN, bottom = INT64_MIN, right = INT64_MIN;
    for (int64_t ry = 0; ry < g->stride_h; ry++)
        for (int64_t rx = 0; rx < g->stride_w; rx++) {
            direct p = cg_direct_phase_plan(g, ry, rx);
            p.relu = relu;
            if (p.ho == 0 || p.wo == 0) continue;
            ph[n++] = (phase){.p = p, .ry = ry, .rx = rx};
            if (p.taps == 0) continue;
            if (top == INT64_MIN) *frame = p;
            top = p.pad_top > top ? p.pad_top : top;
            left = p.pad_left > left ? p.pad_left : left;
            bottom = p.hq - p.pad_top > bottom ? p.hq - p.pad_top : bottom;
            right = p.wq - p.pad_left > right ? p.wq - p.pad_left : right;
        }
    if (top == INT64_MIN)
        *frame = ph[0].p; // no phase reads the input
    else
        cg_direct_set_frame(frame, top, left, top + bottom, left + right);
    for (int64_t i = 0; i < n; i++) {
        direct *p = &ph[i].p;
        if (p->taps == 0) continue;
        // the phase's padded (0, 0) is the frame's (top - pad_top, left - pad_left)
        int64_t rows = top - p->pad_top, cols = left - p->pad_left;
        cg_direct_set_frame(p, top, left, frame->hq, frame->wq);
        ph[i].shift = rows * p->row_stride + cols;
    }
    return n;
}

int cg_direct_transposed(const cg_conv_geometry *g, const cg_conv_operands *x) {
    if (g->stride_h == 1 && g->stride_w == 1) {
        direct p = cg_direct_phase_plan(g, 0, 0);
        p.relu = x->relu;
        return cg_direct_forward(&p, true, x->columns, x->weight, x->bias, x->out);
    }
    phase *ph = cg_alloc((size_t)(g->stride_h * g->stride_w) * sizeof(phase));
    if (!ph) return -1;
    direct frame;
    int64_t n = plan_phases(g, x->relu, ph, &frame), packed = 0, largest = 0;
    for (int64_t i = 0; i < n; i++) {
        const direct *p = &ph[i].p;
        packed += (p->groups * p->blocks * p->taps * p->cb + 2 * p->taps + 15) / 16 * 16;
        largest = p->co * p->ho * p->wo > largest ? p->co * p->ho * p->wo : largest;
    }
    direct most = cg_direct_transposed_plan(g);
    int threads = cg_direct_threads(&most);
    int64_t scratch = (frame.image_floats + largest + 15) / 16 * 16;
    float *block = cg_alloc((size_t)(packed + threads * scratch) * sizeof(float));
    if (!block) {
        cg_dealloc(ph);
        return -1;
    }
    float *at = block;
    for (int64_t i = 0; i < n; i++) { // weights, then tap offsets (int64: 8-byte aligned)
        direct *p = &ph[i].p;
        int64_t w_floats = p->groups * p->blocks * p->taps * p->cb;
        ph[i].wpack = at, ph[i].toff = (int64_t *)(at + (w_floats + 1) / 2 * 2);
        cg_direct_pack_weights(p, true, x->weight, ph[i].wpack);
        cg_direct_tap_offsets(p, ph[i].toff);
        for (int64_t t = 0; t < p->taps; t++) ph[i].toff[t] += ph[i].shift;
        at += (w_floats + 2 * p->taps + 15) / 16 * 16;
    }
    phases_job j = {.g = g,
                    .frame = &frame,
                    .ph = ph,
                    .n = n,
                    .parts = threads,
                    .scratch = scratch,
                    .input = x->columns,
                    .bias = x->bias,
                    .out = x->out,
                    .scratch_at = at};
    cg_parallel_parts(threads, phases_part, &j);
    cg_dealloc(block);
    cg_dealloc(ph);
    return 0;
}
