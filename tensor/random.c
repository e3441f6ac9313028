// tensor/random.c - PCG32 (XSH-RR 64/32): small, fast and identical on every machine.
#include <math.h>

#include "tensor.h"
#include "tensor_internal.h"

static cg_rng global_rng = {0x853c49e6748fea9bULL, 0xda3e39cb94b95bdbULL};

void cg_rng_seed(cg_rng *rng, uint64_t seed) {
    if (!rng) rng = &global_rng; // NULL is the global generator, as everywhere
    rng->state = 0;
    rng->inc = (seed << 1u) | 1u;
    cg_rng_next(rng);
    rng->state += seed;
    cg_rng_next(rng);
}

void cg_manual_seed(uint64_t seed) {
    cg_rng_seed(&global_rng, seed);
}
cg_rng *cg_global_rng(void) {
    return &global_rng;
}

#define PCG_MULT 6364136223846793005ULL

// PCG32's output (XSH-RR) of the state before a step.
static inline uint32_t pcg_output(uint64_t old) {
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

// One PCG32 step on a state held by the caller.
static inline uint32_t pcg_step(uint64_t *state, uint64_t inc) {
    uint64_t old = *state;
    *state = old * PCG_MULT + inc;
    return pcg_output(old);
}

uint32_t cg_rng_next(cg_rng *rng) {
    if (!rng) rng = &global_rng;
    return pcg_step(&rng->state, rng->inc);
}

// 24 random bits scaled to [0, 1): every value is exactly representable in float.
float cg_rng_uniform(cg_rng *rng) {
    return (float)(cg_rng_next(rng) >> 8) * (1.0f / 16777216.0f);
}

// PCG32's state advances by s -> a s + c, so LANES steps at once are s -> A s + C with
// A = a^LANES and C = c (a^(LANES-1) + ... + 1). Lane j starts at state s_j and jumps LANES
// steps per output: LANES independent multiply chains (a single chain waits for its
// multiply's latency on every number) producing the very same stream, in order.
#define PCG_LANES 8

void cg_rng_uniforms(cg_rng *rng, float *out, int64_t n) {
    if (n > 0 && !cg_check_ptr(out, "rng_uniforms", "out")) return;
    if (!rng) rng = &global_rng;
    uint64_t state = rng->state, inc = rng->inc;
    if (n >= 2 * PCG_LANES) {
        uint64_t lane[PCG_LANES], jump_mult = 1, jump_add = 0;
        for (int j = 0; j < PCG_LANES; j++) {
            lane[j] = state; // s_j
            state = state * PCG_MULT + inc;
            jump_add = jump_add * PCG_MULT + inc; // c (a^j + ... + 1) after j + 1 rounds
            jump_mult *= PCG_MULT;
        }
        int64_t groups = n / PCG_LANES;
        for (int64_t i = 0; i < groups; i++)
            for (int j = 0; j < PCG_LANES; j++) {
                out[i * PCG_LANES + j] = (float)(pcg_output(lane[j]) >> 8) * (1.0f / 16777216.0f);
                lane[j] = lane[j] * jump_mult + jump_add;
            }
        state = lane[0]; // s_(groups * LANES)
        out += groups * PCG_LANES;
        n -= groups * PCG_LANES;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(pcg_step(&state, inc) >> 8) * (1.0f / 16777216.0f);
    rng->state = state;
}

// Box-Muller with the cosine branch only: one normal per two uniforms, no hidden state.
float cg_rng_normal(cg_rng *rng) {
    double u1 = ((double)(cg_rng_next(rng) >> 8) + 1.0) / 16777217.0; // (0, 1]
    double u2 = (double)(cg_rng_next(rng) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

cg_tensor *cg_uniform_(cg_tensor *t, float low, float high, cg_rng *rng) {
    if (!cg_check_arg(t, "uniform_", "tensor")) return NULL;
    if (!(low <= high)) return cg_error(CG_ERR_ARG, "uniform_: low %g > high %g", low, high);
    cg_rng_uniforms(rng, t->data, t->numel);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = low + (high - low) * t->data[i];
    return t;
}

cg_tensor *cg_normal_(cg_tensor *t, float mean, float std, cg_rng *rng) {
    if (!cg_check_arg(t, "normal_", "tensor")) return NULL;
    if (!(std >= 0)) return cg_error(CG_ERR_ARG, "normal_: std %g must be >= 0", std);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = mean + std * cg_rng_normal(rng);
    return t;
}

cg_tensor *cg_rand(int ndim, const int64_t *shape, cg_rng *rng) {
    return cg_uniform(ndim, shape, 0.0f, 1.0f, rng);
}
cg_tensor *cg_randn(int ndim, const int64_t *shape, cg_rng *rng) {
    return cg_normal(ndim, shape, 0.0f, 1.0f, rng);
}

cg_tensor *cg_uniform(int ndim, const int64_t *shape, float low, float high, cg_rng *rng) {
    cg_tensor *t = cg_empty(ndim, shape);
    if (t && !cg_uniform_(t, low, high, rng)) {
        cg_free(t);
        return NULL;
    }
    return t;
}

cg_tensor *cg_normal(int ndim, const int64_t *shape, float mean, float std, cg_rng *rng) {
    cg_tensor *t = cg_empty(ndim, shape);
    if (t && !cg_normal_(t, mean, std, rng)) {
        cg_free(t);
        return NULL;
    }
    return t;
}

// Uniform integer in [0, range) without modulo bias (Lemire's rejection).
static uint64_t uniform_below(cg_rng *rng, uint64_t range) {
    uint64_t x = ((uint64_t)cg_rng_next(rng) << 32) | cg_rng_next(rng);
    uint64_t limit = UINT64_MAX - UINT64_MAX % range;
    while (x >= limit) x = ((uint64_t)cg_rng_next(rng) << 32) | cg_rng_next(rng);
    return x % range;
}

cg_tensor *cg_randint(int64_t low, int64_t high, int ndim, const int64_t *shape, cg_rng *rng) {
    if (high <= low)
        return cg_error(CG_ERR_ARG, "randint: high %lld must be > low %lld", (long long)high,
                        (long long)low);
    cg_tensor *t = cg_empty(ndim, shape);
    if (!t) return NULL;
    for (int64_t i = 0; i < t->numel; i++)
        t->data[i] = (float)(low + (int64_t)uniform_below(rng, (uint64_t)(high - low)));
    return t;
}

// Fisher-Yates shuffle of 0..n-1.
cg_tensor *cg_randperm(int64_t n, cg_rng *rng) {
    if (n < 0) return cg_error(CG_ERR_ARG, "randperm: n %lld must be >= 0", (long long)n);
    cg_tensor *t = cg_empty(CG_SHAPE(n));
    if (!t) return NULL;
    for (int64_t i = 0; i < n; i++) t->data[i] = (float)i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)uniform_below(rng, (uint64_t)(i + 1));
        float tmp = t->data[i];
        t->data[i] = t->data[j];
        t->data[j] = tmp;
    }
    return t;
}
