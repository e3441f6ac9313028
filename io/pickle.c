// io/pickle.c - a safe interpreter of the pickle subset torch.save writes for state dicts
// and training checkpoints (io/pth_internal.h).
//
// It executes no code: a GLOBAL opcode is looked up in an allow-list of the few globals a
// state_dict needs and anything else is refused by name; REDUCE calls only those (building
// dicts and tensor descriptions, not tensors: io/pth.c reads the data afterwards). The
// stack, the marks and the memo are bounded, every value lives in one arena freed at once
// (so shared or cyclic references through the memo cost nothing), and every length read
// from the input is checked against the bytes that remain.
#include <stdio.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/checked.h"
#include "../tensor/error.h"
#include "pth_internal.h"

const cg_pk_dtype_info cg_pk_dtypes[CG_PK_NDTYPES] = {
    [CG_PK_F32] = {"FloatStorage", "F32", 4}, [CG_PK_F64] = {"DoubleStorage", "F64", 8},
    [CG_PK_F16] = {"HalfStorage", "F16", 2},  [CG_PK_BF16] = {"BFloat16Storage", "BF16", 2},
    [CG_PK_I64] = {"LongStorage", "I64", 8},  [CG_PK_I32] = {"IntStorage", "I32", 4},
    [CG_PK_I16] = {"ShortStorage", "I16", 2}, [CG_PK_I8] = {"CharStorage", "I8", 1},
    [CG_PK_U8] = {"ByteStorage", "U8", 1},    [CG_PK_BOOL] = {"BoolStorage", "BOOL", 1},
};

// The allow-list: the functions, then the storage types (id CG_GLOBAL_STORAGE + dtype).
enum {
    CG_GLOBAL_ORDERED_DICT,
    CG_GLOBAL_REBUILD_TENSOR,
    CG_GLOBAL_REBUILD_PARAMETER,
    CG_GLOBAL_STORAGE
};
static const char *const functions[][2] = {
    {"collections", "OrderedDict"},
    {"torch._utils", "_rebuild_tensor_v2"},
    {"torch._utils", "_rebuild_parameter"},
};

typedef struct machine {
    cg_pickle *p;
    const char *path;
    const uint8_t *data;
    int64_t n, at;
    cg_pk_value *stack[CG_PICKLE_MAX_STACK];
    int depth;
    int marks[CG_PICKLE_MAX_STACK];
    int n_marks;
    cg_pk_value **memo;
    int64_t memo_capacity, memo_count;
} machine;

static int fail(machine *m, const char *fmt, const char *arg) {
    char what[768];
    snprintf(what, sizeof what, fmt, arg);
    cg_error(CG_ERR_FORMAT, "pth: %s: pickle byte %lld: %s", m->path, (long long)m->at, what);
    return -1;
}

static cg_pk_value *new_value(machine *m, cg_pk_kind kind) {
    cg_pickle *p = m->p;
    cg_pk_value *v = cg_alloc_zeroed(sizeof *v);
    if (!v) return NULL;
    if (CG_ARRAY_PUSH(p->values, p->count, p->capacity, v) < 0) return cg_dealloc(v), NULL;
    v->kind = kind;
    return v;
}

void cg_pickle_free(cg_pickle *p) {
    for (int64_t i = 0; i < p->count; i++) {
        cg_dealloc(p->values[i]->s);
        cg_dealloc(p->values[i]->items);
        cg_dealloc(p->values[i]);
    }
    cg_dealloc(p->values);
    memset(p, 0, sizeof *p);
}

static int push(machine *m, cg_pk_value *v) {
    if (!v) return -1;
    if (m->depth == CG_PICKLE_MAX_STACK) return fail(m, "stack deeper than %s (a bomb?)", "10000");
    m->stack[m->depth++] = v;
    return 0;
}

static cg_pk_value *pop(machine *m) {
    int floor = m->n_marks ? m->marks[m->n_marks - 1] : 0;
    if (m->depth <= floor) return fail(m, "%sstack underflow", ""), NULL;
    return m->stack[--m->depth];
}

static cg_pk_value *top(machine *m) {
    int floor = m->n_marks ? m->marks[m->n_marks - 1] : 0;
    if (m->depth <= floor) return fail(m, "%sstack underflow", ""), NULL;
    return m->stack[m->depth - 1];
}

static int append(cg_pk_value *container, cg_pk_value *item) {
    return CG_ARRAY_PUSH(container->items, container->n, container->capacity, item);
}

// Bytes of the argument of the current opcode; NULL (with an error) if the file ends first.
static const uint8_t *take(machine *m, int64_t bytes) {
    if (bytes < 0 || bytes > m->n - m->at) return fail(m, "%struncated", ""), NULL;
    const uint8_t *p = m->data + m->at;
    m->at += bytes;
    return p;
}

static int take_uint(machine *m, int bytes, uint64_t *v) {
    const uint8_t *p = take(m, bytes);
    if (!p) return -1;
    *v = 0;
    for (int i = bytes - 1; i >= 0; i--) *v = (*v << 8) | p[i];
    return 0;
}

static cg_pk_value *make_int(machine *m, int64_t i) {
    cg_pk_value *v = new_value(m, CG_PK_INT);
    if (v) v->i = i;
    return v;
}

static cg_pk_value *make_str(machine *m, const uint8_t *s, int64_t n) {
    cg_pk_value *v = new_value(m, CG_PK_STR);
    if (!v || !(v->s = cg_alloc((size_t)n + 1))) return NULL;
    memcpy(v->s, s, (size_t)n);
    v->s[n] = 0;
    return v;
}

// Everything above the topmost mark, into a new container of `kind`; the mark is removed.
static cg_pk_value *pop_mark(machine *m, cg_pk_kind kind) {
    if (!m->n_marks) return fail(m, "%sno MARK to close", ""), NULL;
    int from = m->marks[--m->n_marks];
    cg_pk_value *v = new_value(m, kind);
    for (int i = from; v && i < m->depth; i++)
        if (append(v, m->stack[i]) < 0) return NULL;
    m->depth = from;
    return v;
}

static int dict_set(machine *m, cg_pk_value *d, cg_pk_value *k, cg_pk_value *v) {
    if (d->kind != CG_PK_DICT) return fail(m, "%sSETITEM on something not a dict", "");
    return append(d, k) < 0 || append(d, v) < 0 ? -1 : 0;
}

cg_pk_value *cg_pk_dict_get(const cg_pk_value *d, const char *key) {
    if (!d || d->kind != CG_PK_DICT) return NULL;
    for (int64_t i = d->n - 2; i >= 0; i -= 2)
        if (d->items[i]->kind == CG_PK_STR && strcmp(d->items[i]->s, key) == 0)
            return d->items[i + 1];
    return NULL;
}

// GLOBAL module\nname\n: only the allow-list, anything else is refused by name.
static int global(machine *m, const char *module, const char *name) {
    int id = -1;
    for (int i = 0; i < (int)(sizeof functions / sizeof functions[0]); i++)
        if (!strcmp(module, functions[i][0]) && !strcmp(name, functions[i][1])) id = i;
    for (int d = 0; d < CG_PK_NDTYPES && id < 0; d++)
        if (!strcmp(module, "torch") && !strcmp(name, cg_pk_dtypes[d].storage))
            id = CG_GLOBAL_STORAGE + d;
    char full[300];
    snprintf(full, sizeof full, "%s.%s", module, name);
    if (id < 0 && (!strncmp(module, "torch.nn.modules", 16) || !strcmp(module, "__main__")))
        return fail(m,
                    "global '%s': this is a pickled module (torch.save(model)), which would run "
                    "code to load; save model.state_dict() instead",
                    full);
    if (id < 0)
        return fail(m,
                    "global '%s' is not allowed (a state_dict needs only collections.OrderedDict, "
                    "torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage)",
                    full);
    cg_pk_value *v = new_value(m, CG_PK_GLOBAL);
    if (v) v->id = id;
    return push(m, v);
}

static int read_line(machine *m, char *out, size_t cap) {
    const uint8_t *start = m->data + m->at, *nl = memchr(start, '\n', (size_t)(m->n - m->at));
    if (!nl || (size_t)(nl - start) >= cap) return fail(m, "%sbad GLOBAL name", "");
    memcpy(out, start, (size_t)(nl - start));
    out[nl - start] = 0;
    m->at += nl - start + 1;
    return 0;
}

// A tuple of non-negative ints into out (at most CG_MAX_DIMS).
static int int_tuple(machine *m, const cg_pk_value *t, int64_t *out, int *count, const char *what) {
    if (t->kind != CG_PK_TUPLE || t->n > CG_MAX_DIMS)
        return fail(m, "tensor %s is not a tuple of at most 8 ints", what);
    for (int64_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != CG_PK_INT || t->items[i]->i < 0)
            return fail(m, "tensor %s has a negative or non-int entry", what);
        out[i] = t->items[i]->i;
    }
    *count = (int)t->n;
    return 0;
}

// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]):
// a description of the view; io/pth.c checks it against the storage and reads it.
static cg_pk_value *rebuild_tensor(machine *m, const cg_pk_value *args) {
    if (args->n < 4 || args->items[0]->kind != CG_PK_STORAGE || args->items[1]->kind != CG_PK_INT ||
        args->items[1]->i < 0)
        return fail(m, "%s_rebuild_tensor_v2 without (storage, offset, size, stride)", ""), NULL;
    cg_pk_value *t = new_value(m, CG_PK_TENSOR);
    int n_stride = 0;
    if (!t || int_tuple(m, args->items[2], t->shape, &t->ndim, "size") ||
        int_tuple(m, args->items[3], t->stride, &n_stride, "stride"))
        return NULL;
    if (n_stride != t->ndim) return fail(m, "%stensor size and stride differ in length", ""), NULL;
    t->storage = args->items[0], t->i = args->items[1]->i;
    return t;
}

static int reduce(machine *m) {
    cg_pk_value *args = pop(m), *callable = pop(m);
    if (!args || !callable) return -1;
    if (callable->kind != CG_PK_GLOBAL || callable->id >= CG_GLOBAL_STORAGE ||
        args->kind != CG_PK_TUPLE)
        return fail(m, "%sREDUCE of something not callable", "");
    switch (callable->id) {
    case CG_GLOBAL_ORDERED_DICT:
        if (args->n != 0) return fail(m, "%sOrderedDict(...) with arguments", "");
        return push(m, new_value(m, CG_PK_DICT));
    case CG_GLOBAL_REBUILD_TENSOR:
        return push(m, rebuild_tensor(m, args));
    case CG_GLOBAL_REBUILD_PARAMETER: // (data, requires_grad, hooks): the data is the tensor
        if (args->n < 1 || args->items[0]->kind != CG_PK_TENSOR)
            return fail(m, "%s_rebuild_parameter without a tensor", "");
        return push(m, args->items[0]);
    }
    return fail(m, "%sunknown callable", "");
}

// persistent_id ('storage', torch.XStorage, key, location, numel).
static int persistent(machine *m) {
    cg_pk_value *pid = pop(m);
    if (!pid) return -1;
    cg_pk_value **it = pid->items;
    if (pid->kind != CG_PK_TUPLE || pid->n != 5 || it[0]->kind != CG_PK_STR ||
        strcmp(it[0]->s, "storage") || it[1]->kind != CG_PK_GLOBAL ||
        it[1]->id < CG_GLOBAL_STORAGE || it[2]->kind != CG_PK_STR || it[4]->kind != CG_PK_INT ||
        it[4]->i < 0 || it[4]->i > CG_MAX_NUMEL)
        return fail(m, "%sa persistent id that is not ('storage', type, key, location, numel)", "");
    cg_pk_value *s = new_value(m, CG_PK_STORAGE);
    if (!s || !(s->s = cg_alloc(strlen(it[2]->s) + 1))) return -1;
    strcpy(s->s, it[2]->s);
    s->id = it[1]->id - CG_GLOBAL_STORAGE, s->i = it[4]->i;
    return push(m, s);
}

static int memo_put(machine *m, uint64_t index) {
    cg_pk_value *v = top(m);
    if (!v) return -1;
    if (index >= CG_PICKLE_MAX_MEMO || index > (uint64_t)m->n)
        return fail(m, "%smemo index out of range", "");
    int64_t old = m->memo_capacity;
    if (cg_array_reserve(&m->memo, &m->memo_capacity, (int64_t)index + 1, sizeof *m->memo) < 0)
        return -1;
    if (m->memo_capacity > old)
        memset(m->memo + old, 0, (size_t)(m->memo_capacity - old) * sizeof *m->memo);
    m->memo[index] = v;
    if ((int64_t)index >= m->memo_count) m->memo_count = (int64_t)index + 1;
    return 0;
}

static int memo_get(machine *m, uint64_t index) {
    if (index >= (uint64_t)m->memo_capacity || !m->memo[index])
        return fail(m, "%sBINGET of an empty memo slot", "");
    return push(m, m->memo[index]);
}

static int set_items(machine *m) {
    cg_pk_value *items = pop_mark(m, CG_PK_TUPLE), *d = items ? top(m) : NULL;
    if (!d) return -1;
    if (items->n % 2) return fail(m, "%sSETITEMS with an odd number of items", "");
    for (int64_t i = 0; i < items->n; i += 2)
        if (dict_set(m, d, items->items[i], items->items[i + 1]) < 0) return -1;
    return 0;
}

static int appends(machine *m, cg_pk_value *items) {
    cg_pk_value *list = items ? top(m) : NULL;
    if (!list) return -1;
    if (list->kind != CG_PK_LIST) return fail(m, "%sAPPEND to something not a list", "");
    for (int64_t i = 0; i < items->n; i++)
        if (append(list, items->items[i]) < 0) return -1;
    return 0;
}

static int tuple_of(machine *m, int n) {
    if (m->depth - (m->n_marks ? m->marks[m->n_marks - 1] : 0) < n)
        return fail(m, "%sstack underflow", "");
    cg_pk_value *t = new_value(m, CG_PK_TUPLE);
    for (int i = m->depth - n; t && i < m->depth; i++)
        if (append(t, m->stack[i]) < 0) return -1;
    m->depth -= n;
    return push(m, t);
}

static int string_op(machine *m, int length_bytes) {
    uint64_t n;
    const uint8_t *s;
    if (take_uint(m, length_bytes, &n) || !(s = take(m, (int64_t)n))) return -1;
    return push(m, make_str(m, s, (int64_t)n));
}

// LONG1: a little-endian two's complement integer of up to 8 bytes.
static int long1(machine *m) {
    uint64_t n, v;
    if (take_uint(m, 1, &n)) return -1;
    if (n > 8) return fail(m, "%san integer wider than 64 bits", "");
    if (n == 0) return push(m, make_int(m, 0));
    if (take_uint(m, (int)n, &v)) return -1;
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~(uint64_t)0 << (8 * n); // sign-extend
    return push(m, make_int(m, (int64_t)v));
}

static int binfloat(machine *m) {
    const uint8_t *p = take(m, 8);
    if (!p) return -1;
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++) bits = (bits << 8) | p[i]; // big-endian
    cg_pk_value *v = new_value(m, CG_PK_FLOAT);
    if (v) memcpy(&v->f, &bits, sizeof v->f);
    return push(m, v);
}

static int global_op(machine *m, bool from_stack) {
    char module[128], name[128];
    if (!from_stack)
        return read_line(m, module, sizeof module) || read_line(m, name, sizeof name)
                   ? -1
                   : global(m, module, name);
    cg_pk_value *n = pop(m), *mod = n ? pop(m) : NULL;
    if (!mod) return -1;
    if (mod->kind != CG_PK_STR || n->kind != CG_PK_STR || strlen(mod->s) >= 128 ||
        strlen(n->s) >= 128)
        return fail(m, "%sSTACK_GLOBAL of non-strings", "");
    return global(m, mod->s, n->s);
}

// One opcode; 1 at STOP.
static int step(machine *m) {
    uint64_t u;
    const uint8_t *op = take(m, 1);
    if (!op) return -1;
    switch (*op) {
    case 0x80: // PROTO
        if (take_uint(m, 1, &u)) return -1;
        return u >= 2 && u <= 4 ? 0 : fail(m, "%spickle protocol other than 2 to 4", "");
    case 0x95:
        return take(m, 8) ? 0 : -1; // FRAME (protocol 4): ignored
    case '.':
        return 1; // STOP
    case '(':     // MARK
        if (m->n_marks == CG_PICKLE_MAX_STACK)
            return fail(m, "%smore than 10000 MARKs (a bomb?)", "");
        m->marks[m->n_marks++] = m->depth;
        return 0;
    case '0':
        return pop(m) ? 0 : -1; // POP
    case '1':
        return pop_mark(m, CG_PK_TUPLE) ? 0 : -1; // POP_MARK
    case '2':
        return push(m, top(m)); // DUP
    case 'N':
        return push(m, new_value(m, CG_PK_NONE));
    case 0x88:
    case 0x89: { // NEWTRUE, NEWFALSE
        cg_pk_value *v = new_value(m, CG_PK_BOOL_VALUE);
        if (v) v->i = *op == 0x88;
        return push(m, v);
    }
    case 'J':
        return take_uint(m, 4, &u) ? -1 : push(m, make_int(m, (int32_t)(uint32_t)u));
    case 'K':
        return take_uint(m, 1, &u) ? -1 : push(m, make_int(m, (int64_t)u));
    case 'M':
        return take_uint(m, 2, &u) ? -1 : push(m, make_int(m, (int64_t)u));
    case 0x8a:
        return long1(m);
    case 'G':
        return binfloat(m);
    case 'X':
        return string_op(m, 4); // BINUNICODE
    case 0x8c:
        return string_op(m, 1); // SHORT_BINUNICODE
    case 'T':
        return string_op(m, 4); // BINSTRING
    case 'U':
        return string_op(m, 1); // SHORT_BINSTRING
    case ')':
        return push(m, new_value(m, CG_PK_TUPLE));
    case 't':
        return push(m, pop_mark(m, CG_PK_TUPLE));
    case 0x85:
        return tuple_of(m, 1);
    case 0x86:
        return tuple_of(m, 2);
    case 0x87:
        return tuple_of(m, 3);
    case ']':
        return push(m, new_value(m, CG_PK_LIST));
    case 'l':
        return push(m, pop_mark(m, CG_PK_LIST));
    case 'a': { // APPEND
        cg_pk_value *item = pop(m), *one = item ? new_value(m, CG_PK_TUPLE) : NULL;
        return !one || append(one, item) < 0 ? -1 : appends(m, one);
    }
    case 'e':
        return appends(m, pop_mark(m, CG_PK_TUPLE));
    case '}':
        return push(m, new_value(m, CG_PK_DICT));
    case 'd': { // DICT: the marked items as key, value pairs
        cg_pk_value *items = pop_mark(m, CG_PK_TUPLE);
        if (!items) return -1;
        if (items->n % 2) return fail(m, "%sDICT with an odd number of items", "");
        items->kind = CG_PK_DICT;
        return push(m, items);
    }
    case 's': { // SETITEM
        cg_pk_value *v = pop(m), *k = v ? pop(m) : NULL, *d = k ? top(m) : NULL;
        return d ? dict_set(m, d, k, v) : -1;
    }
    case 'u':
        return set_items(m);
    case 'c':
        return global_op(m, false);
    case 0x93:
        return global_op(m, true); // STACK_GLOBAL
    case 'R':
        return reduce(m);
    case 'b': { // BUILD: only a dict's attributes (state_dict's _metadata), ignored
        cg_pk_value *state = pop(m), *obj = state ? top(m) : NULL;
        if (!obj) return -1;
        return obj->kind == CG_PK_DICT ? 0 : fail(m, "%sBUILD on something not a dict", "");
    }
    case 'Q':
        return persistent(m);
    case 'q':
        return take_uint(m, 1, &u) ? -1 : memo_put(m, u);
    case 'r':
        return take_uint(m, 4, &u) ? -1 : memo_put(m, u);
    case 0x94:
        return memo_put(m, (uint64_t)m->memo_count); // MEMOIZE
    case 'h':
        return take_uint(m, 1, &u) ? -1 : memo_get(m, u);
    case 'j':
        return take_uint(m, 4, &u) ? -1 : memo_get(m, u);
    default: {
        char hex[8];
        snprintf(hex, sizeof hex, "0x%02x", *op);
        m->at--;
        return fail(m, "opcode %s is not supported (not a state_dict pickle?)", hex);
    }
    }
}

int cg_pickle_load(cg_pickle *p, const char *path, const uint8_t *data, int64_t n) {
    memset(p, 0, sizeof *p);
    machine *m = cg_alloc_zeroed(sizeof *m);
    if (!m) return -1;
    *m = (machine){.p = p, .path = path, .data = data, .n = n};
    int rc = 0;
    while (rc == 0) rc = step(m);
    if (rc == 1 && m->depth != 1) rc = fail(m, "%sSTOP with a stack not of one value", "");
    if (rc == 1) p->root = m->stack[0];
    cg_dealloc(m->memo);
    cg_dealloc(m);
    if (rc < 0) cg_pickle_free(p);
    return rc < 0 ? -1 : 0;
}
