// tests/support/fixture.h - reader for reference values dumped by PyTorch scripts.
//
// A fixture file is plain text, one directive per line (the generators live next to the
// files, e.g. tests/fixtures/gen_tensor_ops.py):
//
//   # comment (a '#' starts a comment anywhere outside a value list)
//   case <name>
//   param <key> <v1> [v2 ...]          up to 16 numbers
//   text <key> <string>                the rest of the line (e.g. a module's repr)
//   tensor <key> <ndim> <d0> ... <d_{ndim-1}>
//   <numel values, whitespace separated (any number of lines), printed with %.9g>
//   end
//
// ndim 0 is a 0-d tensor with one value. Values are parsed with strtod, so "nan", "inf" and
// "-inf" are accepted. Keys and names are single words (no whitespace).
//
// Usage:
//   cg_fixture *fx = cg_fixture_load("tensor_ops.txt");   // relative to CG_FIXTURE_DIR
//   const cg_fixture_case *c = cg_fixture_find(fx, "add/same");
//   cg_tensor *a = cg_fixture_tensor(c, "a");             // owned by fx
//   ...
//   cg_fixture_free(fx);
#ifndef CG_TEST_FIXTURE_H
#define CG_TEST_FIXTURE_H

#include <stdbool.h>

#include "cgrad.h"

#define CG_FIXTURE_MAX_PARAM_VALUES 16

typedef struct cg_fixture cg_fixture;
typedef struct cg_fixture_case cg_fixture_case;

// Load a fixture file. A relative filename is taken relative to CG_FIXTURE_DIR (set by
// tests/CMakeLists.txt), an absolute one as is. On a missing file reports CG_ERR_IO, on a
// corrupt or truncated one CG_ERR_FORMAT with the file name and line, and returns NULL.
// The tensors are created outside any cgrad scope (even if one is open) and are owned by
// the fixture until cg_fixture_free().
cg_fixture *cg_fixture_load(const char *filename);
void cg_fixture_free(cg_fixture *fixture); // NULL is fine

int cg_fixture_count(const cg_fixture *fixture);
const cg_fixture_case *cg_fixture_case_at(const cg_fixture *fixture, int i);
// The first case with that name, or NULL.
const cg_fixture_case *cg_fixture_find(const cg_fixture *fixture, const char *name);

const char *cg_fixture_case_name(const cg_fixture_case *c);
// Whether the case has a param or a tensor called `key`.
bool cg_fixture_has(const cg_fixture_case *c, const char *key);
// The first value of param `key`, or default_value if there is no such param.
double cg_fixture_param(const cg_fixture_case *c, const char *key, double default_value);
// Param `key` as an option (tensor/options.h): set to its first value, unset if absent.
cg_optional cg_fixture_optional(const cg_fixture_case *c, const char *key);
// Copy up to `max` values of param `key` into out; returns how many the param has (0 if
// absent), which may be more than max.
int cg_fixture_params(const cg_fixture_case *c, const char *key, double *out, int max);
// The text called `key` (owned by the fixture), or NULL.
const char *cg_fixture_text(const cg_fixture_case *c, const char *key);
// The tensor called `key` (owned by the fixture; do not free or modify), or NULL.
cg_tensor *cg_fixture_tensor(const cg_fixture_case *c, const char *key);

#endif
