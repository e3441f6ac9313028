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
#include <string.h>

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

// A phase's outputs (N, co, ho, wo) into the image at rows ry + sh*y, columns rx + sw*x.
typedef struct scatter_job {
    const cg_conv_geometry *g;
    const direct *p;
    const float *phase;
    float *image;
    int64_t ry, rx;
} scatter_job;

static void scatter_planes(void *ctx, int64_t begin, int64_t end) {
    const scatter_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    const int64_t H = g->image_h, W = g->image_w, sh = g->stride_h, sw = g->stride_w;
    for (int64_t plane = begin; plane < end; plane++) {
        const float *src = j->phase + plane * j->p->ho * j->p->wo;
        float *dst = j->image + plane * H * W + j->ry * W + j->rx;
        for (int64_t y = 0; y < j->p->ho; y++, src += j->p->wo, dst += sh * W)
            for (int64_t x = 0; x < j->p->wo; x++) dst[x * sw] = src[x];
    }
}

// A phase no tap reaches: the bias (or 0), through the fused ReLU.
static void bias_only(const direct *p, const float *bias, float *out) {
    int64_t plane = p->ho * p->wo;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t o = 0; o < p->co; o++, out += plane) {
            float b = bias ? bias[o] : 0.0f;
            for (int64_t i = 0; i < plane; i++) out[i] = b;
            if (p->relu) cg_relu_floats(out, out, plane);
        }
}

int cg_direct_transposed(const cg_conv_geometry *g, const cg_conv_operands *x) {
    if (g->stride_h == 1 && g->stride_w == 1) {
        direct p = cg_direct_phase_plan(g, 0, 0);
        p.relu = x->relu;
        return cg_direct_forward(&p, true, x->columns, x->weight, x->bias, x->out);
    }
    // Every phase's outputs, then scattered (the largest phase is phase (0, 0)).
    direct first = cg_direct_phase_plan(g, 0, 0);
    float *phase =
        cg_alloc((size_t)(g->batch * g->image_channels * first.ho * first.wo) * sizeof(float));
    if (!phase) return -1;
    int rc = 0;
    for (int64_t ry = 0; ry < g->stride_h && rc == 0; ry++)
        for (int64_t rx = 0; rx < g->stride_w && rc == 0; rx++) {
            direct p = cg_direct_phase_plan(g, ry, rx);
            p.relu = x->relu;
            if (p.ho == 0 || p.wo == 0) continue;
            if (p.taps == 0)
                bias_only(&p, x->bias, phase);
            else
                rc = cg_direct_forward(&p, true, x->columns, x->weight, x->bias, phase);
            scatter_job j = {g, &p, phase, x->out, ry, rx};
            int64_t planes = g->batch * g->image_channels;
            cg_parallel_for(planes, CG_PARALLEL_MIN / (p.ho * p.wo), scatter_planes, &j);
        }
    cg_dealloc(phase);
    return rc;
}
