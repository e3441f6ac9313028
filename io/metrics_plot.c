// io/metrics_plot.c - curves.png: a small rasteriser for line plots. One panel per tag
// group, axes with "nice" tick values labelled in a built-in 3x5 bitmap font, one
// Bresenham polyline per series, written through the PNG encoder of io/image.c.
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "image_internal.h"
#include "metrics.h"
#include "metrics_internal.h"

const uint8_t cg_plot_colors[6][3] = {{31, 119, 180}, {255, 127, 14},  {44, 160, 44},
                                      {214, 39, 40},  {148, 103, 189}, {140, 86, 75}};
static const uint8_t WHITE[3] = {255, 255, 255}, GRID[3] = {228, 228, 228}, INK[3] = {40, 40, 40};

typedef struct canvas {
    uint8_t *rgb;
    int width, height;
} canvas;

static void dot(canvas *c, int x, int y, const uint8_t color[3]) {
    if (x < 0 || y < 0 || x >= c->width || y >= c->height) return;
    memcpy(c->rgb + 3 * ((size_t)y * (size_t)c->width + (size_t)x), color, 3);
}

static void rect(canvas *c, int x0, int y0, int x1, int y1, const uint8_t color[3]) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) dot(c, x, y, color);
}

// ---- text: 3x5 glyphs, one bit a pixel, rows top first (4 = left column) -------------------
static const char FONT_CHARS[] = "0123456789.-+ABCDEFGHIJKLMNOPQRSTUVWXYZ/_:%() ";
static const uint8_t FONT[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0}, {0, 2, 7, 2, 0},                                   // . - +
    {2, 5, 7, 5, 5}, {6, 5, 6, 5, 6}, {3, 4, 4, 4, 3}, {6, 5, 5, 5, 6}, {7, 4, 6, 4, 7}, // A-E
    {7, 4, 6, 4, 4}, {3, 4, 5, 5, 3}, {5, 5, 7, 5, 5}, {7, 2, 2, 2, 7}, {1, 1, 1, 5, 2}, // F-J
    {5, 5, 6, 5, 5}, {4, 4, 4, 4, 7}, {5, 7, 7, 5, 5}, {6, 5, 5, 5, 5}, {2, 5, 5, 5, 2}, // K-O
    {6, 5, 6, 4, 4}, {2, 5, 5, 6, 3}, {6, 5, 6, 5, 5}, {3, 4, 2, 1, 6}, {7, 2, 2, 2, 2}, // P-T
    {5, 5, 5, 5, 7}, {5, 5, 5, 5, 2}, {5, 5, 7, 7, 5}, {5, 5, 2, 5, 5}, {5, 5, 2, 2, 2}, // U-Y
    {7, 1, 2, 4, 7}, {1, 1, 2, 4, 4}, {0, 0, 0, 0, 7}, {0, 2, 0, 2, 0}, {5, 1, 2, 4, 5}, // Z/_:%
    {1, 2, 2, 2, 1}, {4, 2, 2, 2, 4}, {0, 0, 0, 0, 0}, {7, 1, 2, 0, 2}, // ( ) space ?
};
enum { SCALE = 2, ADVANCE = 4 * SCALE, GLYPH_H = 5 * SCALE };

static int text_width(const char *s) {
    return (int)strlen(s) * ADVANCE - SCALE;
}

// Lower case is drawn as upper case; characters the font lacks as '?'.
static void text(canvas *c, int x, int y, const char *s, const uint8_t color[3]) {
    for (; *s; s++, x += ADVANCE) {
        char ch = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        const char *at = strchr(FONT_CHARS, ch);
        const uint8_t *g = FONT[ch && at ? at - FONT_CHARS : (int)sizeof FONT_CHARS - 1];
        for (int r = 0; r < GLYPH_H; r++)
            for (int k = 0; k < 3 * SCALE; k++)
                if (g[r / SCALE] >> (2 - k / SCALE) & 1) dot(c, x + k, y + r, color);
    }
}

// ---- axes ------------------------------------------------------------------------------------
typedef struct range {
    double lo, hi;
} range;

// A tick spacing of 1, 2 or 5 times a power of ten giving about `target` ticks over r.
static double tick_step(range r, int target) {
    double raw = (r.hi - r.lo) / target, p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return p * (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10);
}

// Text of a tick value: "%g" with enough digits for the spacing, and "0" for rounding noise.
static void tick_label(char *buf, size_t size, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    snprintf(buf, size, "%.4g", v);
}

// The ranges of steps (x) and values (y) over the series' finite values; y is padded so
// the curves clear the frame.
static void data_ranges(const cg_metrics_series *const *s, int n, range *x, range *y) {
    *x = (range){INFINITY, -INFINITY}, *y = (range){INFINITY, -INFINITY};
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < s[i]->count; k++) {
            double v = s[i]->values[k], t = (double)s[i]->steps[k];
            if (!isfinite(v)) continue;
            x->lo = fmin(x->lo, t), x->hi = fmax(x->hi, t);
            y->lo = fmin(y->lo, v), y->hi = fmax(y->hi, v);
        }
    if (!(x->lo <= x->hi)) *x = (range){0, 1}, *y = (range){0, 1}; // nothing finite yet
    if (x->hi == x->lo) x->lo -= 1, x->hi += 1;
    double pad = y->hi > y->lo ? 0.05 * (y->hi - y->lo) : y->hi != 0 ? 0.1 * fabs(y->hi) : 1.0;
    y->lo -= pad, y->hi += pad;
}

// The plot area of a panel in canvas pixels, and the maps from data to pixels.
typedef struct frame {
    int x0, y0, x1, y1; // [x0, x1) x [y0, y1)
    range x, y;
} frame;
static double px(const frame *f, double t) {
    return f->x0 + (t - f->x.lo) / (f->x.hi - f->x.lo) * (f->x1 - 1 - f->x0);
}
static double py(const frame *f, double v) {
    return f->y1 - 1 - (v - f->y.lo) / (f->y.hi - f->y.lo) * (f->y1 - 1 - f->y0);
}

// The number of ticks `step` apart from `*first` within r: an index bounds the loops, since
// adding a step far below a value's precision (1e16 + 0.5) would never reach r.hi.
static int tick_count(range r, double step, double *first) {
    *first = ceil(r.lo / step) * step;
    double n = floor((r.hi - *first) / step) + 1;
    return isfinite(n) && n > 0 ? (int)fmin(n, 50) : 0;
}

static void draw_axes(canvas *c, const frame *f) {
    char label[32];
    double step = tick_step(f->y, 5), first;
    for (int i = 0, n = tick_count(f->y, step, &first); i < n; i++) {
        double v = first + i * step;
        int y = (int)lround(py(f, v));
        rect(c, f->x0, y, f->x1, y + 1, GRID);
        tick_label(label, sizeof label, v, step);
        text(c, f->x0 - 6 - text_width(label), y - GLYPH_H / 2, label, INK);
    }
    step = fmax(tick_step(f->x, 6), 1); // steps are integers
    for (int i = 0, n = tick_count(f->x, step, &first); i < n; i++) {
        double t = first + i * step;
        int x = (int)lround(px(f, t));
        rect(c, x, f->y0, x + 1, f->y1, GRID);
        tick_label(label, sizeof label, t, step);
        text(c, x - text_width(label) / 2, f->y1 + 6, label, INK);
    }
    rect(c, f->x0 - 1, f->y0 - 1, f->x1 + 1, f->y0, INK); // the frame
    rect(c, f->x0 - 1, f->y1, f->x1 + 1, f->y1 + 1, INK);
    rect(c, f->x0 - 1, f->y0, f->x0, f->y1, INK);
    rect(c, f->x1, f->y0, f->x1 + 1, f->y1, INK);
}

// A line two pixels thick (Bresenham, each point also drawn one row lower), clipped to f.
static void line(canvas *c, const frame *f, int x0, int y0, int x1, int y1,
                 const uint8_t color[3]) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    for (int err = dx + dy;;) {
        for (int k = 0; k < 2; k++)
            if (x0 >= f->x0 && x0 < f->x1 && y0 + k >= f->y0 && y0 + k < f->y1)
                dot(c, x0, y0 + k, color);
        if (x0 == x1 && y0 == y1) return;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

// The series as a polyline; a non-finite value breaks it.
static void draw_series(canvas *c, const frame *f, const cg_metrics_series *s,
                        const uint8_t color[3]) {
    bool have = false;
    int lx = 0, ly = 0;
    for (int64_t k = 0; k < s->count; k++) {
        double fx = px(f, (double)s->steps[k]), fy = py(f, s->values[k]);
        if (!isfinite(fx) || !isfinite(fy)) { // also a range overflowing to inf (+-1e308)
            have = false;
            continue;
        }
        int x = (int)lround(fx), y = (int)lround(fy);
        line(c, f, have ? lx : x, have ? ly : y, x, y, color);
        lx = x, ly = y, have = true;
    }
}

// ---- panels ------------------------------------------------------------------------------------
// A tag's group: the text after its last '/'.
static const char *group_of(const char *tag) {
    const char *slash = strrchr(tag, '/');
    return slash ? slash + 1 : tag;
}

// Title and legend: "LOSS   -- train/loss   -- test/loss".
static void draw_title(canvas *c, int top, const char *group, const cg_metrics_series *const *s,
                       int n) {
    int x = CG_PLOT_LEFT, y = top + (CG_PLOT_TOP - GLYPH_H) / 2;
    text(c, x, y, group, INK);
    x += text_width(group) + 24;
    for (int i = 0; i < n; i++) {
        rect(c, x, y + GLYPH_H / 2 - 1, x + 16, y + GLYPH_H / 2 + 1, cg_plot_colors[i % 6]);
        text(c, x + 22, y, s[i]->tag, INK);
        x += 22 + text_width(s[i]->tag) + 20;
    }
}

// A panel over the steps `x`, the same in every panel, so that the curves line up.
static void draw_panel(canvas *c, int top, int panel_height, range x,
                       const cg_metrics_series *const *s, int n) {
    frame f = {.x0 = CG_PLOT_LEFT,
               .x1 = c->width - CG_PLOT_RIGHT,
               .y0 = top + CG_PLOT_TOP,
               .y1 = top + panel_height - CG_PLOT_BOTTOM};
    range unused;
    data_ranges(s, n, &unused, &f.y);
    f.x = x;
    draw_title(c, top, group_of(s[0]->tag), s, n);
    draw_axes(c, &f);
    for (int i = 0; i < n; i++) draw_series(c, &f, s[i], cg_plot_colors[i % 6]);
}

int cg_metrics_plot(const char *path, const cg_metrics_series *series, int count, int width,
                    int panel_height) {
    // Groups in the order their first tag was logged.
    const cg_metrics_series *members[CG_METRICS_MAX_TAGS][CG_METRICS_MAX_TAGS];
    int sizes[CG_METRICS_MAX_TAGS] = {0}, groups = 0;
    for (int i = 0; i < count; i++) {
        int g = 0;
        while (g < groups && strcmp(group_of(members[g][0]->tag), group_of(series[i].tag))) g++;
        if (g == groups) groups++;
        members[g][sizes[g]++] = &series[i];
    }
    canvas c = {.width = width, .height = (groups ? groups : 1) * panel_height};
    c.rgb = cg_alloc((size_t)c.width * (size_t)c.height * 3);
    if (!c.rgb) return -1;
    rect(&c, 0, 0, c.width, c.height, WHITE);
    const cg_metrics_series *all[CG_METRICS_MAX_TAGS];
    for (int i = 0; i < count; i++) all[i] = &series[i];
    range x, unused;
    data_ranges(all, count, &x, &unused);
    for (int g = 0; g < groups; g++)
        draw_panel(&c, g * panel_height, panel_height, x, members[g], sizes[g]);
    int rc = cg_image_write_png(path, c.rgb, c.width, c.height, 3, "metrics_flush");
    cg_dealloc(c.rgb);
    return rc;
}
