// tests/support/optim_case.h - an optimizer built from a fixture case, for any class of
// optim/optimizers.def: the case's name up to '/' is the class ("adamw/groups"), its params
// named after the class's fields are the options, "groups" puts each parameter in group 0
// or 1 and "group1.<field>" are group 1's options (tests/fixtures/gen_optim_classes.py).
#ifndef CG_TEST_OPTIM_CASE_H
#define CG_TEST_OPTIM_CASE_H

#include "testing.h"

#define CG_TEST_MAX_PARAMS 8

// The class a case is for, or NULL for a case of something else.
const cg_optimizer_class *cg_test_case_class(const cg_fixture_case *c);
// The case's optimizer over params[0..n). order[j] is the index in params of the
// optimizer's parameter j (group 0's, then group 1's; may be NULL). Fails the test on error.
cg_optimizer *cg_test_case_optimizer(const cg_fixture_case *c, int n, cg_tensor **params,
                                     int *order);

#endif
