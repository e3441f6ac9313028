// tests/support/null_walk.h - the generated walk of every public function (test_bad_calls):
// the cases scripts/gen-null-walk writes from the headers reached from cgrad.h, and the
// fixtures they are called with.
//
// One case per (function, pointer argument) with NULL there and a valid fixture everywhere
// else, and for every (int n, const int64_t *sizes) pair one case with the zero-element
// shape [0, 3] and one with [7, 7905747460161236407] (whose product wraps to 1). A case's
// call makes its fixtures in the current scope; nw_free_owned() frees the objects they and
// the call made (modules, optimizers, loaders, ...), newest first. Compiled into
// test_bad_calls only (it links the distributed layer), not into cg_test_support.
#ifndef CG_TEST_NULL_WALK_H
#define CG_TEST_NULL_WALK_H

typedef enum nw_kind { NW_NULL, NW_ZERO, NW_OVERFLOW } nw_kind;
typedef struct nw_case {
    const char *function, *arg, *type;
    nw_kind kind;
    void (*call)(void);
} nw_case;

extern const nw_case nw_cases[]; // generated: null_walk.inc in the build directory
extern const int nw_n_cases;

// Free what the last case's fixtures and call made (after the call, before its scope ends).
void nw_free_owned(void);

#endif
