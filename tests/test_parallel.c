// tests/test_parallel.c - the thread team (tensor/parallel.h): every part runs exactly once
// whatever the thread count, ranges tile [0, n), nested jobs run inline, and callers on
// several threads at once each get their whole job done.
#define _POSIX_C_SOURCE 200809L // fork, waitpid
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

typedef struct marks {
    int64_t n;
    _Atomic int *hits; // hits[i]: times part (or element) i ran
    _Atomic int calls; // calls of the function
} marks;

static void mark_part(void *ctx, int64_t part) {
    marks *m = ctx;
    atomic_fetch_add(&m->hits[part], 1);
    atomic_fetch_add(&m->calls, 1);
}

static void mark_range(void *ctx, int64_t begin, int64_t end) {
    marks *m = ctx;
    assert_true(0 <= begin && begin < end && end <= m->n);
    for (int64_t i = begin; i < end; i++) atomic_fetch_add(&m->hits[i], 1);
    atomic_fetch_add(&m->calls, 1);
}

static marks marks_new(int64_t n) {
    marks m = {.n = n, .hits = calloc((size_t)(n > 0 ? n : 1), sizeof(_Atomic int))};
    assert_non_null(m.hits);
    return m;
}

static void assert_each_once(marks *m) {
    for (int64_t i = 0; i < m->n; i++)
        if (atomic_load(&m->hits[i]) != 1)
            fail_msg("item %lld of %lld ran %d times", (long long)i, (long long)m->n,
                     atomic_load(&m->hits[i]));
}

// 1 to 4 threads (more than this machine's cores too), part counts around the thread count.
static void test_every_part_once(void **state) {
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        cg_set_num_threads(threads);
        for (int64_t parts = 0; parts <= 67; parts++)
            for (int rep = 0; rep < 3; rep++) {
                marks m = marks_new(parts);
                cg_parallel_parts(parts, mark_part, &m);
                assert_each_once(&m);
                assert_int_equal(atomic_load(&m.calls), parts);
                free(m.hits);
            }
    }
    cg_set_num_threads(0);
}

// cg_parallel_for: the ranges tile [0, n), one per thread; one call at or below min_n.
static void test_ranges_tile(void **state) {
    (void)state;
    const int64_t sizes[] = {0, 1, 2, 3, 7, 100, 4097, 100003};
    for (int threads = 1; threads <= 3; threads++) {
        cg_set_num_threads(threads);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            marks m = marks_new(sizes[s]);
            cg_parallel_for(m.n, 0, mark_range, &m);
            assert_each_once(&m);
            int64_t expected = m.n == 0 ? 0 : m.n < threads ? m.n : threads;
            assert_int_equal(atomic_load(&m.calls), expected);
            free(m.hits);

            m = marks_new(sizes[s]);
            cg_parallel_for(m.n, m.n, mark_range, &m); // n <= min_n: one call
            assert_each_once(&m);
            assert_int_equal(atomic_load(&m.calls), m.n > 0);
            free(m.hits);
        }
    }
    cg_set_num_threads(0);
}

// cg_part_begin cuts [0, n) into parts whose sizes differ by at most one, in order.
static void test_part_begin(void **state) {
    (void)state;
    for (int64_t n = 0; n < 40; n++)
        for (int64_t parts = 1; parts < 9; parts++) {
            assert_int_equal(cg_part_begin(n, 0, parts), 0);
            assert_int_equal(cg_part_begin(n, parts, parts), n);
            for (int64_t p = 0; p < parts; p++) {
                int64_t size = cg_part_begin(n, p + 1, parts) - cg_part_begin(n, p, parts);
                assert_true(size == n / parts || size == n / parts + 1);
            }
        }
}

// Inside a part, cg_in_parallel() holds and a nested job runs inline on the same thread.
typedef struct nested {
    marks inner[4];
    _Atomic int wrong_thread, not_in_parallel;
} nested;

typedef struct inner_ctx {
    marks *m;
    pthread_t owner;
    nested *outer;
} inner_ctx;

static void inner_part(void *ctx, int64_t part) {
    inner_ctx *c = ctx;
    if (!pthread_equal(pthread_self(), c->owner)) atomic_fetch_add(&c->outer->wrong_thread, 1);
    mark_part(c->m, part);
}

static void outer_part(void *ctx, int64_t part) {
    nested *n = ctx;
    if (!cg_in_parallel()) atomic_fetch_add(&n->not_in_parallel, 1);
    inner_ctx c = {&n->inner[part], pthread_self(), n};
    cg_parallel_parts(n->inner[part].n, inner_part, &c);
}

static void test_nested_jobs_run_inline(void **state) {
    (void)state;
    cg_set_num_threads(2);
    assert_false(cg_in_parallel());
    nested n = {0};
    for (int i = 0; i < 4; i++) n.inner[i] = marks_new(5 + i);
    cg_parallel_parts(4, outer_part, &n);
    for (int i = 0; i < 4; i++) {
        assert_each_once(&n.inner[i]);
        free(n.inner[i].hits);
    }
    assert_int_equal(atomic_load(&n.wrong_thread), 0);
    assert_int_equal(atomic_load(&n.not_in_parallel), 0);
    assert_false(cg_in_parallel());
    cg_set_num_threads(0);
}

// Two application threads submitting jobs at once: one gets the team, the other runs its
// job inline; both results are complete.
typedef struct sum_job {
    const int64_t *values;
    int64_t n;
    _Atomic int64_t total;
} sum_job;

static void sum_range(void *ctx, int64_t begin, int64_t end) {
    sum_job *s = ctx;
    int64_t t = 0;
    for (int64_t i = begin; i < end; i++) t += s->values[i];
    atomic_fetch_add(&s->total, t);
}

static void *submit_many(void *arg) {
    const int64_t *values = arg;
    for (int rep = 0; rep < 500; rep++) {
        sum_job s = {values, 10000, 0};
        cg_parallel_for(s.n, 0, sum_range, &s);
        if (atomic_load(&s.total) != 10000 * 9999 / 2) return (void *)1;
    }
    return NULL;
}

static void test_concurrent_callers(void **state) {
    (void)state;
    cg_set_num_threads(2);
    int64_t *values = malloc(10000 * sizeof(int64_t));
    assert_non_null(values);
    for (int64_t i = 0; i < 10000; i++) values[i] = i;
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, submit_many, values), 0);
    assert_int_equal(pthread_create(&b, NULL, submit_many, values), 0);
    void *ra, *rb;
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_null(ra);
    assert_null(rb);
    free(values);
    cg_set_num_threads(0);
}

// A child of fork() (no workers of its own) still completes jobs, on a team of its own.
static void test_jobs_after_fork(void **state) {
    (void)state;
    cg_set_num_threads(2);
    int64_t *values = malloc(10000 * sizeof(int64_t));
    assert_non_null(values);
    for (int64_t i = 0; i < 10000; i++) values[i] = i;
    assert_null(submit_many(values)); // the parent's team is running
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(submit_many(values) == NULL ? 0 : 1);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    free(values);
    cg_set_num_threads(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_every_part_once, cg_test_teardown),
        cmocka_unit_test_teardown(test_ranges_tile, cg_test_teardown),
        cmocka_unit_test_teardown(test_part_begin, cg_test_teardown),
        cmocka_unit_test_teardown(test_nested_jobs_run_inline, cg_test_teardown),
        cmocka_unit_test_teardown(test_concurrent_callers, cg_test_teardown),
        cmocka_unit_test_teardown(test_jobs_after_fork, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
