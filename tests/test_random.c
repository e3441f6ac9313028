// tests/test_random.c - the PCG32 generator and the random tensor constructors: determinism,
// the exact PCG32 XSH-RR 64/32 stream (checked against an independent implementation and the
// values published with the reference pcg32 demo), and distribution statistics.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// ---- an independent PCG32 (O'Neill, pcg-random.org, pcg32_random_r / pcg32_srandom_r) ----
typedef struct ref_pcg32 {
    uint64_t state, inc;
} ref_pcg32;

static uint32_t ref_next(ref_pcg32 *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ULL + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

static void ref_seed(ref_pcg32 *r, uint64_t initstate, uint64_t initseq) {
    r->state = 0;
    r->inc = (initseq << 1u) | 1u;
    ref_next(r);
    r->state += initstate;
    ref_next(r);
}

// The first outputs of pcg32-demo ("pcg32_srandom_r(&rng, 42u, 54u)"), as published with the
// reference C implementation.
static const uint32_t PCG32_DEMO[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                       0x83d2f293, 0xbfa4784b, 0xcbed606e};

static void test_pcg32_stream_exact(void **state) {
    (void)state;
    ref_pcg32 ref;
    ref_seed(&ref, 42, 54);
    cg_rng rng = {ref.state, ref.inc}; // start cgrad's generator in the same state
    for (int i = 0; i < 6; i++) {
        uint32_t expected = ref_next(&ref);
        assert_int_equal(expected, PCG32_DEMO[i]); // the reference is the real PCG32
        assert_int_equal(cg_rng_next(&rng), expected);
    }
    // and they stay in step for a long stretch
    for (int i = 0; i < 100000; i++)
        if (cg_rng_next(&rng) != ref_next(&ref))
            fail_msg("PCG32 stream diverges at output %d", i + 6);
    assert_true(rng.state == ref.state && rng.inc == ref.inc);
}

// The bulk draw is the same stream as one cg_rng_uniform at a time, 24 bits / 2^24 each, and
// leaves the generator where the single draws would.
static void test_uniforms_follow_single_draws(void **state) {
    (void)state;
    // lengths below, at and around the interleaved lanes' multiples, one after another
    static const int lengths[] = {0, 1, 7, 15, 16, 17, 1000, 1003};
    ref_pcg32 ref;
    ref_seed(&ref, 7, 11);
    cg_rng bulk = {ref.state, ref.inc}, single = bulk;
    float out[1003];
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++) {
        cg_rng_uniforms(&bulk, out, lengths[k]);
        for (int i = 0; i < lengths[k]; i++) {
            assert_true(out[i] == cg_rng_uniform(&single));
            assert_true(out[i] == (float)(ref_next(&ref) >> 8) / 16777216.0f);
        }
        assert_true(bulk.state == single.state && bulk.inc == single.inc);
    }
}

// Whatever seeding scheme cg_rng_seed uses, the stream after it is the PCG32 stream of the
// resulting state, with an odd increment (required for the full 2^64 period).
static void test_seeded_state_follows_pcg32(void **state) {
    (void)state;
    for (uint64_t seed = 0; seed < 5; seed++) {
        cg_rng rng;
        cg_rng_seed(&rng, seed);
        assert_true(rng.inc & 1);
        ref_pcg32 ref = {rng.state, rng.inc};
        for (int i = 0; i < 100; i++) assert_int_equal(cg_rng_next(&rng), ref_next(&ref));
    }
}

static void test_same_seed_same_numbers(void **state) {
    (void)state;
    cg_manual_seed(123);
    cg_tensor *a = cg_randn(CG_SHAPE(100), NULL);
    cg_tensor *u = cg_rand(CG_SHAPE(50), NULL);
    cg_manual_seed(123);
    cg_tensor *b = cg_randn(CG_SHAPE(100), NULL);
    cg_tensor *v = cg_rand(CG_SHAPE(50), NULL);
    assert_memory_equal(a->data, b->data, 100 * sizeof(float));
    assert_memory_equal(u->data, v->data, 50 * sizeof(float));
    // explicit generators: same seed, same numbers, independent of the global one
    cg_rng r1, r2;
    cg_rng_seed(&r1, 77);
    cg_rng_seed(&r2, 77);
    cg_tensor *c = cg_normal(CG_SHAPE(3, 4), 2, 0.5f, &r1);
    cg_manual_seed(1); // must not disturb r2
    (void)cg_rng_next(NULL);
    cg_tensor *d = cg_normal(CG_SHAPE(3, 4), 2, 0.5f, &r2);
    assert_memory_equal(c->data, d->data, 12 * sizeof(float));
    cg_tensor *p1 = cg_randperm(20, &r1), *p2 = cg_randperm(20, &r2);
    assert_memory_equal(p1->data, p2->data, 20 * sizeof(float));
    // the global generator is the one cg_global_rng returns
    cg_manual_seed(9);
    uint32_t via_null = cg_rng_next(NULL);
    cg_manual_seed(9);
    assert_int_equal(cg_rng_next(cg_global_rng()), via_null);
    cg_tensor *all[] = {a, b, u, v, c, d, p1, p2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) cg_free(all[i]);
}

static void test_different_seeds_differ(void **state) {
    (void)state;
    cg_rng r1, r2;
    cg_rng_seed(&r1, 1);
    cg_rng_seed(&r2, 2);
    int equal = 0;
    for (int i = 0; i < 1000; i++) equal += cg_rng_next(&r1) == cg_rng_next(&r2);
    assert_true(equal <= 1); // ~1000 / 2^32 expected
    cg_manual_seed(1);
    cg_tensor *a = cg_randn(CG_SHAPE(64), NULL);
    cg_manual_seed(2);
    cg_tensor *b = cg_randn(CG_SHAPE(64), NULL);
    int same = 0;
    for (int i = 0; i < 64; i++) same += a->data[i] == b->data[i];
    assert_true(same <= 1);
    // consecutive draws from one generator differ as well
    cg_tensor *c = cg_randn(CG_SHAPE(64), NULL);
    same = 0;
    for (int i = 0; i < 64; i++) same += b->data[i] == c->data[i];
    assert_true(same <= 1);
    cg_free(a);
    cg_free(b);
    cg_free(c);
}

#define N_SAMPLES 100000

// Uniform: all in [0, 1); mean 1/2 and variance 1/12. Standard errors over 1e5 samples are
// 0.0009 (mean) and 0.0003 (variance); the tolerances are > 5 standard errors.
static void test_rand_range_and_moments(void **state) {
    (void)state;
    cg_manual_seed(2718);
    cg_tensor *u = cg_rand(CG_SHAPE(N_SAMPLES), NULL);
    double sum = 0, sumsq = 0;
    int buckets[10] = {0};
    for (int i = 0; i < N_SAMPLES; i++) {
        float v = u->data[i];
        if (!(v >= 0.0f && v < 1.0f)) fail_msg("rand: sample %d = %.9g outside [0, 1)", i, v);
        sum += v;
        sumsq += (double)v * v;
        buckets[(int)(v * 10)]++;
    }
    double mean = sum / N_SAMPLES, var = sumsq / N_SAMPLES - mean * mean;
    assert_float_equal(mean, 0.5, 0.005);
    assert_float_equal(var, 1.0 / 12, 0.002);
    // each decile holds 10% +- 0.5% (standard error 0.095%)
    for (int b = 0; b < 10; b++) assert_in_range(buckets[b], 9500, 10500);
    // cg_uniform and cg_uniform_ scale to [low, high)
    cg_tensor *w = cg_uniform(CG_SHAPE(1000), -3, 5, NULL);
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < 1000; i++) {
        lo = fminf(lo, w->data[i]);
        hi = fmaxf(hi, w->data[i]);
    }
    assert_true(lo >= -3 && lo < -2.9f && hi < 5 && hi > 4.9f);
    cg_uniform_(w, 10, 11, NULL);
    for (int i = 0; i < 1000; i++) assert_true(w->data[i] >= 10 && w->data[i] < 11);
    cg_free(u);
    cg_free(w);
}

// Normal: mean 0 (s.e. 0.0032, tolerance 0.02), variance 1 (s.e. 0.0045, tolerance 0.03),
// 68.27% within one sigma (s.e. 0.15%, tolerance 1%), 95.45% within two (tolerance 0.5%),
// no NaN or inf, and symmetric.
static void test_randn_moments(void **state) {
    (void)state;
    cg_manual_seed(31415);
    cg_tensor *z = cg_randn(CG_SHAPE(N_SAMPLES), NULL);
    double sum = 0, sumsq = 0, sum3 = 0;
    int within1 = 0, within2 = 0, positive = 0;
    for (int i = 0; i < N_SAMPLES; i++) {
        double v = z->data[i];
        if (!isfinite(v)) fail_msg("randn: sample %d is not finite", i);
        sum += v;
        sumsq += v * v;
        sum3 += v * v * v;
        within1 += fabs(v) < 1;
        within2 += fabs(v) < 2;
        positive += v > 0;
    }
    double mean = sum / N_SAMPLES, var = sumsq / N_SAMPLES - mean * mean;
    assert_float_equal(mean, 0, 0.02);
    assert_float_equal(var, 1, 0.03);
    assert_float_equal(sum3 / N_SAMPLES, 0, 0.05); // skewness, s.e. 0.008
    assert_float_equal((double)within1 / N_SAMPLES, 0.6827, 0.01);
    assert_float_equal((double)within2 / N_SAMPLES, 0.9545, 0.005);
    assert_float_equal((double)positive / N_SAMPLES, 0.5, 0.01);
    // cg_normal / cg_normal_ shift and scale
    cg_tensor *n = cg_normal(CG_SHAPE(N_SAMPLES), 3, 0.5f, NULL);
    sum = sumsq = 0;
    for (int i = 0; i < N_SAMPLES; i++) {
        sum += n->data[i];
        sumsq += (double)n->data[i] * n->data[i];
    }
    mean = sum / N_SAMPLES;
    assert_float_equal(mean, 3, 0.01);
    assert_float_equal(sqrt(sumsq / N_SAMPLES - mean * mean), 0.5, 0.01);
    cg_normal_(n, -1, 0, NULL); // std 0: exactly the mean
    for (int i = 0; i < 100; i++) assert_float_equal(n->data[i], -1, 0);
    cg_fill_(n, 2.5f);
    for (int i = 0; i < N_SAMPLES; i++) assert_true(n->data[i] == 2.5f);
    cg_free(z);
    cg_free(n);
}

// randint(low, high): whole numbers in [low, high), every value hit, roughly uniformly.
static void test_randint_range(void **state) {
    (void)state;
    cg_manual_seed(5);
    cg_tensor *r = cg_randint(-3, 4, CG_SHAPE(70, 100), NULL);
    assert_non_null(r);
    assert_int_equal(r->ndim, 2);
    int counts[7] = {0};
    for (int64_t i = 0; i < r->numel; i++) {
        float v = r->data[i];
        if (v != floorf(v) || v < -3 || v >= 4)
            fail_msg("randint: element %lld = %.9g not a whole number in [-3, 4)", (long long)i, v);
        counts[(int)v + 3]++;
    }
    for (int k = 0; k < 7; k++) assert_in_range(counts[k], 800, 1200); // expected 1000
    cg_free(r);
    // a range wider than 2^16 still covers its ends' neighbourhood
    cg_tensor *wide = cg_randint(0, 1 << 20, CG_SHAPE(10000), NULL);
    float max = 0;
    for (int i = 0; i < 10000; i++) {
        assert_true(wide->data[i] >= 0 && wide->data[i] < (1 << 20));
        max = fmaxf(max, wide->data[i]);
    }
    assert_true(max > 0.99f * (1 << 20));
    cg_free(wide);
}

// randperm(n) is a permutation of 0..n-1, and not the identity.
static void test_randperm_is_permutation(void **state) {
    (void)state;
    cg_manual_seed(8);
    const int64_t sizes[] = {1, 2, 10, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        cg_tensor *p = cg_randperm(n, NULL);
        assert_non_null(p);
        assert_int_equal(p->ndim, 1);
        assert_int_equal(p->shape[0], n);
        char *seen = calloc((size_t)n, 1);
        int64_t fixed_points = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = p->data[i];
            if (v != floorf(v) || v < 0 || v >= (float)n || seen[(int64_t)v])
                fail_msg("randperm(%lld): element %lld = %.9g repeated or out of range",
                         (long long)n, (long long)i, v);
            seen[(int64_t)v] = 1;
            fixed_points += (int64_t)v == i;
        }
        if (n == 1000) assert_true(fixed_points < 10); // expected 1
        free(seen);
        cg_free(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pcg32_stream_exact, cg_test_teardown),
        cmocka_unit_test_teardown(test_seeded_state_follows_pcg32, cg_test_teardown),
        cmocka_unit_test_teardown(test_uniforms_follow_single_draws, cg_test_teardown),
        cmocka_unit_test_teardown(test_same_seed_same_numbers, cg_test_teardown),
        cmocka_unit_test_teardown(test_different_seeds_differ, cg_test_teardown),
        cmocka_unit_test_teardown(test_rand_range_and_moments, cg_test_teardown),
        cmocka_unit_test_teardown(test_randn_moments, cg_test_teardown),
        cmocka_unit_test_teardown(test_randint_range, cg_test_teardown),
        cmocka_unit_test_teardown(test_randperm_is_permutation, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("random", tests, NULL, NULL);
}
