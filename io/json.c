// io/json.c - the strict JSON cursor behind the safetensors header parser.
#include <stdarg.h>
#include <stdio.h>

#include "json_internal.h"

void cg_json_init(cg_json_reader *r, const char *text, size_t length) {
    r->text = text;
    r->length = length;
    r->pos = 0;
    r->error[0] = '\0';
}

bool cg_json_fail(cg_json_reader *r, const char *fmt, ...) {
    if (r->error[0]) return false; // keep the first reason
    char what[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    // The text around the position, so the reason can be seen without a hex dump: up to 12
    // bytes before and 12 from it, non-printable bytes as '?'.
    char near[32];
    size_t from = r->pos > 12 ? r->pos - 12 : 0, n = 0;
    for (size_t i = from; i < r->length && i < r->pos + 12 && n + 1 < sizeof near; i++) {
        char c = r->text[i];
        near[n++] = c >= 0x20 && c < 0x7f && c != '"' ? c : '?';
    }
    near[n] = '\0';
    snprintf(r->error, sizeof r->error, "%s at byte %zu of %zu, near \"%s\"", what, r->pos,
             r->length, near);
    return false;
}

static void skip_ws(cg_json_reader *r) {
    while (r->pos < r->length) {
        char c = r->text[r->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        r->pos++;
    }
}

bool cg_json_accept(cg_json_reader *r, char c) {
    if (r->error[0]) return false;
    skip_ws(r);
    if (r->pos < r->length && r->text[r->pos] == c) {
        r->pos++;
        return true;
    }
    return false;
}

bool cg_json_expect(cg_json_reader *r, char c) {
    if (cg_json_accept(r, c)) return true;
    if (r->pos >= r->length) return cg_json_fail(r, "expected '%c' but the header ended", c);
    return cg_json_fail(r, "expected '%c'", c);
}

bool cg_json_at_end(cg_json_reader *r) {
    skip_ws(r);
    return r->pos == r->length;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(cg_json_reader *r, uint32_t *out) {
    if (r->length - r->pos < 4) return cg_json_fail(r, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_value(r->text[r->pos + i]);
        if (d < 0) return cg_json_fail(r, "bad \\u escape");
        v = v * 16 + (uint32_t)d;
    }
    r->pos += 4;
    *out = v;
    return true;
}

// A \u escape (after the "\u"), possibly a surrogate pair, as a code point.
static bool read_code_point(cg_json_reader *r, uint32_t *cp) {
    if (!read_hex4(r, cp)) return false;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return cg_json_fail(r, "lone low surrogate");
    if (*cp < 0xD800 || *cp > 0xDBFF) return true;
    uint32_t low;
    if (r->length - r->pos < 2 || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u')
        return cg_json_fail(r, "high surrogate without its pair");
    r->pos += 2;
    if (!read_hex4(r, &low)) return false;
    if (low < 0xDC00 || low > 0xDFFF) return cg_json_fail(r, "bad surrogate pair");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    return true;
}

static int utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) return out[0] = (char)cp, 1;
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool append(cg_json_reader *r, char *out, size_t size, size_t *n, const char *bytes,
                   int count) {
    if (*n + (size_t)count >= size)
        return cg_json_fail(r, "string longer than %zu bytes", size - 1);
    for (int i = 0; i < count; i++) out[(*n)++] = bytes[i];
    return true;
}

bool cg_json_string(cg_json_reader *r, char *out, size_t size) {
    if (!cg_json_expect(r, '"')) return false;
    size_t n = 0;
    while (r->pos < r->length) {
        char c = r->text[r->pos++];
        if (c == '"') {
            out[n] = '\0';
            return true;
        }
        if ((unsigned char)c < 0x20) return cg_json_fail(r, "control character in a string");
        if (c != '\\') {
            if (!append(r, out, size, &n, &c, 1)) return false;
            continue;
        }
        if (r->pos >= r->length) break;
        char e = r->text[r->pos++], buf[4];
        const char *simple = "\"\"\\\\//b\bf\fn\nr\rt\t";
        int k = 0;
        while (simple[k] && simple[k] != e) k += 2;
        if (simple[k]) {
            if (!append(r, out, size, &n, &simple[k + 1], 1)) return false;
        } else if (e == 'u') {
            uint32_t cp;
            if (!read_code_point(r, &cp)) return false;
            if (cp == 0) return cg_json_fail(r, "\\u0000 in a string");
            if (!append(r, out, size, &n, buf, utf8_encode(cp, buf))) return false;
        } else {
            return cg_json_fail(r, "bad escape '\\%c'", e);
        }
    }
    return cg_json_fail(r, "unterminated string");
}

bool cg_json_uint(cg_json_reader *r, int64_t *out) {
    if (r->error[0]) return false;
    skip_ws(r);
    size_t start = r->pos;
    int64_t v = 0;
    while (r->pos < r->length && r->text[r->pos] >= '0' && r->text[r->pos] <= '9') {
        int d = r->text[r->pos] - '0';
        if (v > (INT64_MAX - d) / 10) return cg_json_fail(r, "integer too large");
        v = v * 10 + d;
        r->pos++;
    }
    if (r->pos == start) return cg_json_fail(r, "expected a non-negative integer");
    if (r->pos - start > 1 && r->text[start] == '0') return cg_json_fail(r, "leading zero");
    if (r->pos < r->length &&
        (r->text[r->pos] == '.' || r->text[r->pos] == 'e' || r->text[r->pos] == 'E'))
        return cg_json_fail(r, "expected an integer, found a fraction or exponent");
    *out = v;
    return true;
}
