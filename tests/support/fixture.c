// tests/support/fixture.c - see fixture.h for the file format.
#include "fixture.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"

#ifndef CG_FIXTURE_DIR
#define CG_FIXTURE_DIR "."
#endif

#define KEY_LEN 128

typedef struct fixture_param {
    char key[KEY_LEN];
    int count;
    double values[CG_FIXTURE_MAX_PARAM_VALUES];
} fixture_param;

#define TEXT_LEN 256

typedef struct fixture_text {
    char key[KEY_LEN];
    char value[TEXT_LEN];
} fixture_text;

typedef struct fixture_tensor {
    char key[KEY_LEN];
    cg_tensor *tensor;
} fixture_tensor;

struct cg_fixture_case {
    char name[KEY_LEN];
    int n_params, cap_params;
    fixture_param *params;
    int n_tensors, cap_tensors;
    fixture_tensor *tensors;
    int n_texts, cap_texts;
    fixture_text *texts;
};

struct cg_fixture {
    int n_cases, cap_cases;
    cg_fixture_case *cases;
};

// A cursor over the whole file, line-aware so directives end at the end of their line.
typedef struct parser {
    const char *path;
    const char *p;
    int line;
} parser;

// Skip blanks and comments; stop at a newline unless cross_lines.
static void skip_space(parser *ps, bool cross_lines) {
    for (;;) {
        char c = *ps->p;
        if (c == '#') {
            while (*ps->p && *ps->p != '\n') ps->p++;
        } else if (c == '\n' && cross_lines) {
            ps->line++;
            ps->p++;
        } else if (c != '\n' && c != '\0' && isspace((unsigned char)c)) {
            ps->p++;
        } else {
            return;
        }
    }
}

// The next word into buf (empty at end of line / file when !cross_lines). Returns its length,
// or -1 if it does not fit.
static int next_word(parser *ps, char *buf, size_t size, bool cross_lines) {
    skip_space(ps, cross_lines);
    size_t n = 0;
    while (*ps->p && !isspace((unsigned char)*ps->p) && *ps->p != '#') {
        if (n + 1 >= size) return -1;
        buf[n++] = *ps->p++;
    }
    buf[n] = '\0';
    return (int)n;
}

static bool parse_double(const char *word, double *out) {
    if (!*word) return false;
    char *end;
    errno = 0;
    double v = strtod(word, &end);
    if (*end != '\0') return false;
    *out = v;
    return true;
}

static bool parse_int64(const char *word, int64_t *out) {
    if (!*word) return false;
    char *end;
    errno = 0;
    long long v = strtoll(word, &end, 10);
    if (*end != '\0' || errno) return false;
    *out = v;
    return true;
}

static void *grow(void *array, int *cap, int needed, size_t elem) {
    if (needed <= *cap) return array;
    int new_cap = *cap ? *cap * 2 : 8;
    while (new_cap < needed) new_cap *= 2;
    void *p = realloc(array, (size_t)new_cap * elem);
    if (p) *cap = new_cap;
    return p;
}

static void free_case(cg_fixture_case *c) {
    for (int i = 0; i < c->n_tensors; i++) cg_free(c->tensors[i].tensor);
    free(c->tensors);
    free(c->params);
    free(c->texts);
}

void cg_fixture_free(cg_fixture *fixture) {
    if (!fixture) return;
    for (int i = 0; i < fixture->n_cases; i++) free_case(&fixture->cases[i]);
    free(fixture->cases);
    free(fixture);
}

static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *length = n;
    return buf;
}

#define FORMAT_ERROR(ps, ...)                                                                      \
    do {                                                                                           \
        char what_[256];                                                                           \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                                \
        cg_error(CG_ERR_FORMAT, "fixture: %s:%d: %s", (ps)->path, (ps)->line, what_);              \
        return false;                                                                              \
    } while (0)

static bool parse_param(parser *ps, cg_fixture_case *c) {
    fixture_param param = {0};
    char word[KEY_LEN];
    if (next_word(ps, param.key, sizeof param.key, false) <= 0)
        FORMAT_ERROR(ps, "'param' needs a key");
    for (;;) {
        int n = next_word(ps, word, sizeof word, false);
        if (n < 0) FORMAT_ERROR(ps, "value of param '%s' too long", param.key);
        if (n == 0) break;
        if (param.count == CG_FIXTURE_MAX_PARAM_VALUES)
            FORMAT_ERROR(ps, "param '%s' has more than %d values", param.key,
                         CG_FIXTURE_MAX_PARAM_VALUES);
        if (!parse_double(word, &param.values[param.count]))
            FORMAT_ERROR(ps, "param '%s': '%s' is not a number", param.key, word);
        param.count++;
    }
    if (param.count == 0) FORMAT_ERROR(ps, "param '%s' has no values", param.key);
    fixture_param *params = grow(c->params, &c->cap_params, c->n_params + 1, sizeof(fixture_param));
    if (!params) FORMAT_ERROR(ps, "out of memory");
    c->params = params;
    c->params[c->n_params++] = param;
    return true;
}

// text <key> <the rest of the line, '#' included>
static bool parse_text(parser *ps, cg_fixture_case *c) {
    fixture_text text = {0};
    if (next_word(ps, text.key, sizeof text.key, false) <= 0)
        FORMAT_ERROR(ps, "'text' needs a key");
    skip_space(ps, false);
    size_t n = 0;
    while (*ps->p && *ps->p != '\n') {
        if (n + 1 >= sizeof text.value) FORMAT_ERROR(ps, "text '%s' too long", text.key);
        text.value[n++] = *ps->p++;
    }
    while (n > 0 && isspace((unsigned char)text.value[n - 1])) n--;
    text.value[n] = '\0';
    fixture_text *texts = grow(c->texts, &c->cap_texts, c->n_texts + 1, sizeof(fixture_text));
    if (!texts) FORMAT_ERROR(ps, "out of memory");
    c->texts = texts;
    c->texts[c->n_texts++] = text;
    return true;
}

static bool parse_tensor(parser *ps, cg_fixture_case *c) {
    char key[KEY_LEN], word[KEY_LEN];
    if (next_word(ps, key, sizeof key, false) <= 0) FORMAT_ERROR(ps, "'tensor' needs a key");
    int64_t ndim;
    if (next_word(ps, word, sizeof word, false) <= 0 || !parse_int64(word, &ndim) || ndim < 0 ||
        ndim > CG_MAX_DIMS)
        FORMAT_ERROR(ps, "tensor '%s': bad ndim '%s'", key, word);
    int64_t shape[CG_MAX_DIMS];
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (next_word(ps, word, sizeof word, false) <= 0 || !parse_int64(word, &shape[d]) ||
            shape[d] < 0)
            FORMAT_ERROR(ps, "tensor '%s': bad or missing size of dim %d", key, d);
        numel *= shape[d];
    }
    if (next_word(ps, word, sizeof word, false) != 0)
        FORMAT_ERROR(ps, "tensor '%s': extra word '%s' after the shape", key, word);
    float *values = malloc((size_t)(numel > 0 ? numel : 1) * sizeof(float));
    if (!values) FORMAT_ERROR(ps, "out of memory");
    for (int64_t i = 0; i < numel; i++) {
        double v;
        int n = next_word(ps, word, sizeof word, true);
        if (n <= 0 || !parse_double(word, &v)) {
            free(values);
            if (n == 0)
                FORMAT_ERROR(ps, "tensor '%s': file ends after %lld of %lld values", key,
                             (long long)i, (long long)numel);
            FORMAT_ERROR(ps, "tensor '%s': value %lld '%s' is not a number", key, (long long)i,
                         word);
        }
        values[i] = (float)v;
    }
    // Fixture tensors belong to the fixture, never to a scope the test happens to have open.
    cg_tensor *t = cg_from_data((int)ndim, shape, values);
    free(values);
    if (!t) FORMAT_ERROR(ps, "tensor '%s': cg_from_data failed", key);
    if (t->scope) cg_unscope(t);
    fixture_tensor *tensors =
        grow(c->tensors, &c->cap_tensors, c->n_tensors + 1, sizeof(fixture_tensor));
    if (!tensors) {
        cg_free(t);
        FORMAT_ERROR(ps, "out of memory");
    }
    c->tensors = tensors;
    snprintf(c->tensors[c->n_tensors].key, KEY_LEN, "%s", key);
    c->tensors[c->n_tensors++].tensor = t;
    return true;
}

static bool parse_file(parser *ps, cg_fixture *fx) {
    char word[KEY_LEN];
    cg_fixture_case *current = NULL;
    for (;;) {
        int n = next_word(ps, word, sizeof word, true);
        if (n < 0) FORMAT_ERROR(ps, "word too long");
        if (n == 0) break;
        if (strcmp(word, "case") == 0) {
            if (current) FORMAT_ERROR(ps, "'case' inside case '%s' (missing 'end')", current->name);
            cg_fixture_case *cases =
                grow(fx->cases, &fx->cap_cases, fx->n_cases + 1, sizeof(cg_fixture_case));
            if (!cases) FORMAT_ERROR(ps, "out of memory");
            fx->cases = cases;
            current = &fx->cases[fx->n_cases++];
            memset(current, 0, sizeof *current);
            if (next_word(ps, current->name, sizeof current->name, false) <= 0)
                FORMAT_ERROR(ps, "'case' needs a name");
            if (next_word(ps, word, sizeof word, false) != 0)
                FORMAT_ERROR(ps, "extra word '%s' after case name", word);
        } else if (strcmp(word, "end") == 0) {
            if (!current) FORMAT_ERROR(ps, "'end' outside a case");
            current = NULL;
        } else if (strcmp(word, "param") == 0) {
            if (!current) FORMAT_ERROR(ps, "'param' outside a case");
            if (!parse_param(ps, current)) return false;
        } else if (strcmp(word, "text") == 0) {
            if (!current) FORMAT_ERROR(ps, "'text' outside a case");
            if (!parse_text(ps, current)) return false;
        } else if (strcmp(word, "tensor") == 0) {
            if (!current) FORMAT_ERROR(ps, "'tensor' outside a case");
            if (!parse_tensor(ps, current)) return false;
        } else {
            FORMAT_ERROR(ps, "unknown directive '%s'", word);
        }
        // A directive must end its line (tensor values start on the next line).
        skip_space(ps, false);
        if (*ps->p != '\n' && *ps->p != '\0') FORMAT_ERROR(ps, "trailing text after directive");
    }
    if (current) FORMAT_ERROR(ps, "file ends inside case '%s' (missing 'end')", current->name);
    return true;
}

cg_fixture *cg_fixture_load(const char *filename) {
    if (!filename) return cg_error(CG_ERR_ARG, "fixture: filename is NULL");
    char path[4096];
    if (filename[0] == '/')
        snprintf(path, sizeof path, "%s", filename);
    else
        snprintf(path, sizeof path, "%s/%s", CG_FIXTURE_DIR, filename);
    size_t length;
    char *text = read_file(path, &length);
    if (!text) return cg_error(CG_ERR_IO, "fixture: cannot read '%s'", path);
    if (strlen(text) != length) {
        free(text);
        return cg_error(CG_ERR_FORMAT, "fixture: '%s' contains a NUL byte (not a text file)", path);
    }
    cg_fixture *fx = calloc(1, sizeof *fx);
    if (!fx) {
        free(text);
        return cg_error(CG_ERR_MEMORY, "fixture: out of memory");
    }
    parser ps = {path, text, 1};
    bool ok = parse_file(&ps, fx);
    free(text);
    if (!ok) {
        cg_fixture_free(fx);
        return NULL;
    }
    return fx;
}

int cg_fixture_count(const cg_fixture *fixture) {
    return fixture ? fixture->n_cases : 0;
}

const cg_fixture_case *cg_fixture_case_at(const cg_fixture *fixture, int i) {
    if (!fixture || i < 0 || i >= fixture->n_cases) return NULL;
    return &fixture->cases[i];
}

const cg_fixture_case *cg_fixture_find(const cg_fixture *fixture, const char *name) {
    if (!fixture || !name) return NULL;
    for (int i = 0; i < fixture->n_cases; i++)
        if (strcmp(fixture->cases[i].name, name) == 0) return &fixture->cases[i];
    return NULL;
}

const char *cg_fixture_case_name(const cg_fixture_case *c) {
    return c ? c->name : "";
}

static const fixture_param *find_param(const cg_fixture_case *c, const char *key) {
    if (!c || !key) return NULL;
    for (int i = 0; i < c->n_params; i++)
        if (strcmp(c->params[i].key, key) == 0) return &c->params[i];
    return NULL;
}

cg_tensor *cg_fixture_tensor(const cg_fixture_case *c, const char *key) {
    if (!c || !key) return NULL;
    for (int i = 0; i < c->n_tensors; i++)
        if (strcmp(c->tensors[i].key, key) == 0) return c->tensors[i].tensor;
    return NULL;
}

const char *cg_fixture_text(const cg_fixture_case *c, const char *key) {
    if (!c || !key) return NULL;
    for (int i = 0; i < c->n_texts; i++)
        if (strcmp(c->texts[i].key, key) == 0) return c->texts[i].value;
    return NULL;
}

bool cg_fixture_has(const cg_fixture_case *c, const char *key) {
    return find_param(c, key) != NULL || cg_fixture_tensor(c, key) != NULL;
}

double cg_fixture_param(const cg_fixture_case *c, const char *key, double default_value) {
    const fixture_param *p = find_param(c, key);
    return p ? p->values[0] : default_value;
}

cg_optional cg_fixture_optional(const cg_fixture_case *c, const char *key) {
    const fixture_param *p = find_param(c, key);
    return p ? cg_opt(p->values[0]) : (cg_optional){0};
}

int cg_fixture_params(const cg_fixture_case *c, const char *key, double *out, int max) {
    const fixture_param *p = find_param(c, key);
    if (!p) return 0;
    for (int i = 0; i < p->count && i < max; i++) out[i] = p->values[i];
    return p->count;
}
