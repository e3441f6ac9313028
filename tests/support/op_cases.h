// tests/support/op_cases.h - the gradcheck case of every op in ops/ops.def.
//
// The cases live in op_cases.def, one line each. cg_test_gradcheck_all_ops runs all of
// them and then fails, naming the op, for any registered op that no case recorded: a new
// op cannot be registered without its gradcheck.
#ifndef CG_TEST_OP_CASES_H
#define CG_TEST_OP_CASES_H

// Gradcheck every case of op_cases.def (seeded), then check that every differentiable op of
// the registry was recorded by at least one of them.
void cg_test_gradcheck_all_ops(void);

#endif
