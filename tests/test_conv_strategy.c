// tests/test_conv_strategy.c - which strategy the convolution driver takes (the one rule
// list in kernels/conv_strategy.c), pinned for a table of representative geometries.
//
// Every shape of tests/test_conv_kernels.c (tests/support/conv_shapes.c), bench/bench_conv's
// configs a-e and a few ResNet-like and boundary shapes, in every direction, under every algorithm
// setting, at 1 and 2 threads, with and without AVX-512 (cg_conv_choose_strategy is a pure function
// of them, so the table holds on any CPU). The pinned strings were produced by the driver before
// its rules moved into one function (then with cg_conv_direct_use_portable standing in for a CPU
// without AVX-512), so the move is checked to change no choice; a deliberate change of a rule
// changes the strings it should (CG_PRINT_STRATEGIES=1 prints the table as the rules decide now,
// for review). The driver follows cg_conv_strategy_of, which is the same function with the current
// settings (checked for every row).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_shapes.h"
#include "kernels/conv_kernels.h"
#include "testing.h"

// Per direction (forward, transposed, weight gradient): 5 groups, one per algorithm setting
// (auto, exact, winograd, implicit, direct), of 4 letters: 1 thread with AVX-512, 1 thread
// without, 2 threads with, 2 threads without.
typedef struct choices {
    const char *forward, *transposed, *weight_grad;
} choices;

typedef struct pinned {
    conv_shape s;
    choices want;
} pinned;

// The letter of each strategy in the pinned strings.
static char letter(cg_conv_strategy s) {
    switch (s) {
    case CG_CONV_STRATEGY_DEPTHWISE:
        return 'd';
    case CG_CONV_STRATEGY_WINOGRAD:
        return 'W';
    case CG_CONV_STRATEGY_DIRECT:
        return 'D';
    case CG_CONV_STRATEGY_POINTWISE:
        return 'P';
    case CG_CONV_STRATEGY_IMPLICIT_GEMM:
        return 'I';
    case CG_CONV_STRATEGY_IMAGE_PARALLEL:
        return 'i';
    case CG_CONV_STRATEGY_BATCHED_GEMM:
        return 'b';
    }
    return '?';
}

static const cg_conv_algorithm algorithms[] = {CG_CONV_ALGO_AUTO, CG_CONV_ALGO_EXACT,
                                               CG_CONV_ALGO_WINOGRAD, CG_CONV_ALGO_IMPLICIT,
                                               CG_CONV_ALGO_DIRECT};

// The 24-letter string (5 groups of 4, spaces between) the driver decides now.
static void decide(const conv_shape *s, cg_conv_direction d, char out[25]) {
    cg_conv_geometry g = conv_shape_geometry(s);
    int k = 0;
    for (int a = 0; a < 5; a++) {
        for (int threads = 1; threads <= 2; threads++)
            for (int portable = 0; portable <= 1; portable++)
                out[k++] =
                    letter(cg_conv_choose_strategy(d, &g, algorithms[a], threads, !portable));
        out[k++] = a < 4 ? ' ' : '\0';
    }
}

// The choices for each shape of tests/support/conv_shapes.c, in its order.
static const choices kernel_shape_choices[] = {
    {"iiii iiii WWWW IIII DDDD", "iiii iiii WWWW iiii DDDD", "iiii iiii WWWW iiii DDDD"},
    {"DiDb iibb WWWW IIII DDDD", "iibb iibb WWWW iibb DDDD", "DiDb iibb WWWW iibb DDDD"},
    {"iiii iiii WWWW IIII DDDD", "iiii iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"},
    {"iiii iiii WWWW IIII DDDD", "iiii iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"},
    {"iiii iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd"},
    {"dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd"},
    {"PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iibb iibb iibb IIII DDDD", "iibb iibb iibb iibb DDDD", "iibb iibb iibb iibb DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
    {"iiii iiii WWWW IIII DDDD", "iiii iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"},
    {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"},
    {"DWDW iiii WWWW IIII DDDD", "DWDW iiii WWWW iiii DDDD", "DWDW iiii WWWW iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"iibb iibb iibb IIII DDDD", "iibb iibb iibb iibb DDDD", "iibb iibb iibb iibb DDDD"},
    {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
    {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
    {"DiDi iiii iiii IIII DDDD", "DiDi iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "iiii iiii iiii iiii DDDD"},
    {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
    {"iiii iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"},
};

// More shapes: test_conv_kernels' error-bound shape, bench/bench_conv's configs and the models'
// layers.
static const pinned table[] = {
    // {n, c, o, h, w, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups}, {forward, transposed, wgrad}
    {{2, 64, 64, 15, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DWDW iiii WWWW IIII DDDD", "DWDW iiii WWWW iiii DDDD", "DWDW iiii WWWW iiii DDDD"}},
    // bench/bench_conv's configs a-d, and e (ConvTranspose2d 64 -> 32, 14x14, k4 s2 p1) as
    // its conv2d geometry: image 32 x 28x28, columns 64 x 14x14
    {{64, 1, 32, 28, 28, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},
     {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    {{64, 32, 64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{8, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"WWDW iiii WWWW IIII DDDD", "WWDW iiii WWWW iiii DDDD", "DWDW iiii WWWW iiii DDDD"}},
    {{8, 64, 128, 56, 56, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 4},
     {"DiDi iiii iiii IIII DDDD", "DiDi iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    {{16, 32, 64, 28, 28, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii iiii IIII DDDD", "DiDi iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    // the small CNN, ResNet-like blocks, the Winograd channel gate, batch 1 and 0
    {{64, 1, 8, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "iiii iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{64, 8, 16, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{64, 16, 16, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    // weight gradients of fewer than 16 channels per group, too deep for row blocks (288
    // taps): the 16-channel blocks
    {{64, 32, 8, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{64, 32, 1, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"iiii iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{8, 64, 256, 56, 56, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
     {"PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD"}},
    {{8, 256, 512, 56, 56, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},
     {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    {{8, 64, 128, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii iiii IIII DDDD", "DiDi iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    {{8, 128, 128, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DWDW iiii WWWW IIII DDDD", "DWDW iiii WWWW iiii DDDD", "DWDW iiii WWWW iiii DDDD"}},
    {{8, 3, 64, 224, 224, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1},
     {"DiDi iiii iiii IIII DDDD", "iiii iiii iiii iiii DDDD", "DiDi iiii iiii iiii DDDD"}},
    {{2, 47, 64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DiDi iiii WWWW IIII DDDD", "DiDi iiii WWWW iiii DDDD", "DiDi iiii WWWW iiii DDDD"}},
    {{2, 48, 48, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"DWDW iiii WWWW IIII DDDD", "DWDW iiii WWWW iiii DDDD", "DWDW iiii WWWW iiii DDDD"}},
    {{1, 64, 64, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"WWDW iibb WWWW IIII DDDD", "WWDW iibb WWWW iibb DDDD", "DWDW iibb WWWW iibb DDDD"}},
    {{1, 32, 32, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},
     {"PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD", "PPPP PPPP PPPP PPPP DDDD"}},
    {{0, 16, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
     {"bbbb bbbb WWWW bbbb bbbb", "bbbb bbbb WWWW bbbb bbbb", "bbbb bbbb WWWW bbbb bbbb"}},
    {{4, 32, 32, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32},
     {"dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd", "dddd dddd dddd dddd dddd"}},
};

static const char *direction_name(cg_conv_direction d) {
    return d == CG_CONV_FORWARD ? "forward" : d == CG_CONV_TRANSPOSED ? "transposed" : "wgrad";
}

// Row i of every pinned shape: conv_shapes first, then table.
static int n_rows(void) {
    return conv_n_shapes + (int)(sizeof table / sizeof *table);
}
static const conv_shape *row_shape(int i) {
    return i < conv_n_shapes ? &conv_shapes[i] : &table[i - conv_n_shapes].s;
}
static const choices *row_choices(int i) {
    return i < conv_n_shapes ? &kernel_shape_choices[i] : &table[i - conv_n_shapes].want;
}

static void every_pinned_choice(void **state) {
    (void)state;
    assert_int_equal(sizeof kernel_shape_choices / sizeof *kernel_shape_choices, conv_n_shapes);
    int threads = cg_num_threads();
    bool print = getenv("CG_PRINT_STRATEGIES") != NULL;
    for (int i = 0; i < n_rows(); i++) {
        const conv_shape *s = row_shape(i);
        const choices *want = row_choices(i);
        const char *expected[3] = {want->forward, want->transposed, want->weight_grad};
        char got[3][25];
        for (int d = 0; d < 3; d++) decide(s, (cg_conv_direction)d, got[d]);
        if (print)
            printf("    {{%lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, %lld, "
                   "%lld, %lld, %lld, %lld}, {\"%s\", \"%s\", \"%s\"}},\n",
                   (long long)s->n, (long long)s->c, (long long)s->o, (long long)s->h,
                   (long long)s->w, (long long)s->kh, (long long)s->kw, (long long)s->sh,
                   (long long)s->sw, (long long)s->dh, (long long)s->dw, (long long)s->pt,
                   (long long)s->pb, (long long)s->pl, (long long)s->pr, (long long)s->groups,
                   got[0], got[1], got[2]);
        for (int d = 0; !print && d < 3; d++)
            if (strcmp(got[d], expected[d]) != 0)
                fail_msg("row %d (N%lld C%lld O%lld %lldx%lld k%lld), %s: the driver decides "
                         "\"%s\", pinned \"%s\"",
                         i, (long long)s->n, (long long)s->c, (long long)s->o, (long long)s->h,
                         (long long)s->w, (long long)s->kh, direction_name((cg_conv_direction)d),
                         got[d], expected[d]);
    }
    cg_set_num_threads(threads);
}

// cg_conv_strategy_of is cg_conv_choose_strategy with the current algorithm setting, thread
// count and CPU.
static void strategy_of_reads_the_settings(void **state) {
    (void)state;
    int threads = cg_num_threads();
    for (int i = 0; i < n_rows(); i++) {
        cg_conv_geometry g = conv_shape_geometry(row_shape(i));
        for (int a = 0; a < 5; a++)
            for (int t = 1; t <= 2; t++)
                for (int d = 0; d < 3; d++) {
                    cg_conv_set_algorithm(algorithms[a]);
                    cg_set_num_threads(t);
                    assert_int_equal(cg_conv_strategy_of((cg_conv_direction)d, &g),
                                     cg_conv_choose_strategy((cg_conv_direction)d, &g,
                                                             algorithms[a], t,
                                                             cg_conv_direct_has_avx512()));
                }
    }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(threads);
}

// Every strategy has its own name (the driver's debugging output uses them).
static void names_are_distinct(void **state) {
    (void)state;
    for (int a = CG_CONV_STRATEGY_DEPTHWISE; a <= CG_CONV_STRATEGY_BATCHED_GEMM; a++)
        for (int b = a + 1; b <= CG_CONV_STRATEGY_BATCHED_GEMM; b++)
            assert_string_not_equal(cg_conv_strategy_name((cg_conv_strategy)a),
                                    cg_conv_strategy_name((cg_conv_strategy)b));
    assert_string_equal(cg_conv_strategy_name(CG_CONV_STRATEGY_WINOGRAD), "winograd");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pinned_choice),
        cmocka_unit_test(strategy_of_reads_the_settings),
        cmocka_unit_test(names_are_distinct),
    };
    return cmocka_run_group_tests_name("conv_strategy", tests, NULL, NULL);
}
