// tests/fuzz/fuzz_json.c - the JSON reader (io/json.c) driven over any JSON value made of
// objects, arrays, strings and non-negative integers (what safetensors headers use).
#include "../../io/json_internal.h"
#include "fuzz_common.h"

static bool value(cg_json_reader *r, int depth);

static bool members(cg_json_reader *r, char close, int depth) {
    char key[256];
    if (cg_json_accept(r, close)) return true;
    do {
        if (close == '}' && (!cg_json_string(r, key, sizeof key) || !cg_json_expect(r, ':')))
            return false;
        if (!value(r, depth + 1)) return false;
    } while (cg_json_accept(r, ','));
    return cg_json_expect(r, close);
}

static bool value(cg_json_reader *r, int depth) {
    char s[64];
    int64_t n;
    if (depth > 64) return cg_json_fail(r, "too deep");
    if (cg_json_accept(r, '{')) return members(r, '}', depth);
    if (cg_json_accept(r, '[')) return members(r, ']', depth);
    size_t at = r->pos;
    if (cg_json_string(r, s, sizeof s)) return true;
    r->pos = at; // not a string: try a number from the same place
    r->error[0] = '\0';
    return cg_json_uint(r, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cg_json_reader r;
    cg_json_init(&r, (const char *)data, size);
    if (value(&r, 0)) cg_json_at_end(&r);
    return 0;
}
