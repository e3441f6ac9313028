// io/image_grid.c - PNG grids of images or kernels (cg_image_save_grid): tiles min-max
// normalised, scaled and optionally labelled with their index, encoded by
// cg_image_write_png (io/image.c).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "image.h"
#include "image_internal.h"

// Min-max normalise `count` values into bytes (constant -> 128).
static void tile_to_bytes(const float *src, int64_t count, uint8_t *dst) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < count; i++) {
        float v = src[i];
        if (isfinite(v)) lo = v < lo ? v : lo, hi = v > hi ? v : hi;
    }
    for (int64_t i = 0; i < count; i++) {
        float v = src[i];
        float u = hi > lo && isfinite(v) ? (v - lo) / (hi - lo) : 0.5f;
        dst[i] = (uint8_t)lrintf(u * 255.0f);
    }
}

// 3x5 digits and '.', one bit a pixel, rows top first (bit 2 = left column).
static const uint16_t GLYPHS[11][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7},
    {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1},
    {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}, {0, 0, 0, 0, 2},
};

// Draw `text` (digits and '.') in white at (x, y), each font pixel as s x s, clipped to
// max_x.
static void draw_label(uint8_t *pic, int64_t width, int channels, int64_t x, int64_t y,
                       int64_t max_x, const char *text, int s) {
    for (; *text; text++, x += 4 * s) {
        const uint16_t *g = GLYPHS[*text == '.' ? 10 : *text - '0'];
        for (int64_t r = 0; r < 5 * s; r++)
            for (int64_t c = 0; c < 3 * s && x + c < max_x; c++)
                if (g[r / s] >> (2 - c / s) & 1)
                    for (int k = 0; k < channels; k++)
                        pic[((y + r) * width + x + c) * channels + k] = 255;
    }
}

// The grid's geometry: tiles of th x tw pixels, each followed by a label strip of label_h.
typedef struct grid {
    int64_t tiles, cols, rows, h, w, tw, th, label_h, width, height;
    int scale, label_scale, channels;
} grid;

static bool plan_grid(const cg_tensor *images, const cg_grid_options *o, grid *g) {
    if (images->ndim != 4 && images->ndim != 2) {
        cg_error(CG_ERR_SHAPE, "image_save_grid: images must be (N,C,H,W) or (H,W), got %s",
                 cg_tensor_shape_str(images));
        return false;
    }
    int64_t n = images->ndim == 4 ? images->shape[0] : 1,
            c = images->ndim == 4 ? images->shape[1] : 1;
    g->h = images->shape[images->ndim - 2], g->w = images->shape[images->ndim - 1];
    g->channels = c == 3 ? 3 : 1;
    g->tiles = g->channels == 3 ? n : n * c;
    if (g->tiles < 1 || g->h < 1 || g->w < 1) {
        cg_error(CG_ERR_SHAPE, "image_save_grid: no pixels in %s", cg_tensor_shape_str(images));
        return false;
    }
    if (o->columns < 0 || o->scale < 0) {
        cg_error(CG_ERR_ARG,
                 "image_save_grid: columns (%d) and scale (%d) must be >= 0 (0: automatic)",
                 o->columns, o->scale);
        return false;
    }
    // Scale 0: tiles about 64 pixels on their longer side (a 3x3 kernel becomes 63x63).
    int64_t longer = g->h > g->w ? g->h : g->w;
    g->scale = o->scale > 0 ? o->scale : (int)(longer < 64 ? 64 / longer : 1);
    g->cols = o->columns > 0 ? o->columns : (int64_t)ceil(sqrt((double)g->tiles));
    g->cols = g->cols < g->tiles ? g->cols : g->tiles;
    g->rows = (g->tiles + g->cols - 1) / g->cols;
    g->tw = g->w * g->scale, g->th = g->h * g->scale;
    g->label_scale = g->tw >= 40 ? 2 : 1;
    g->label_h = o->labels ? 7 * g->label_scale : 0;
    g->width = g->cols * (g->tw + 1) + 1, g->height = g->rows * (g->th + g->label_h + 1) + 1;
    if (g->width > 16384 || g->height > 16384) {
        cg_error(CG_ERR_ARG, "image_save_grid: a %lldx%lld picture is too large",
                 (long long)g->width, (long long)g->height);
        return false;
    }
    return true;
}

// Tile t's label: "n" for one channel per image, "n.c" (image n, channel c) otherwise.
static void tile_label(const cg_tensor *images, const grid *g, int64_t t, char *buf, size_t n) {
    int64_t c = images->ndim == 4 && g->channels == 1 ? images->shape[1] : 1;
    if (c == 1)
        snprintf(buf, n, "%lld", (long long)t);
    else
        snprintf(buf, n, "%lld.%lld", (long long)(t / c), (long long)(t % c));
}

static void draw_tiles(const cg_tensor *images, const grid *g, bool labels, uint8_t *pic,
                       uint8_t *tile) {
    int64_t plane = g->h * g->w, ch = g->channels;
    for (int64_t t = 0; t < g->tiles; t++) {
        // An RGB tile's three planes are normalised together, keeping its colours.
        tile_to_bytes(images->data + t * plane * ch, plane * ch, tile);
        int64_t ox = 1 + (t % g->cols) * (g->tw + 1);
        int64_t oy = 1 + (t / g->cols) * (g->th + g->label_h + 1);
        for (int64_t y = 0; y < g->th; y++)
            for (int64_t x = 0; x < g->tw; x++)
                for (int k = 0; k < ch; k++) {
                    int64_t sp = (y / g->scale) * g->w + x / g->scale;
                    pic[((oy + y) * g->width + ox + x) * ch + k] =
                        ch == 3 ? tile[k * plane + sp] : tile[sp];
                }
        if (!labels) continue;
        char text[48];
        tile_label(images, g, t, text, sizeof text);
        draw_label(pic, g->width, (int)ch, ox + g->label_scale, oy + g->th + g->label_scale,
                   ox + g->tw, text, g->label_scale);
    }
}

int cg_image_save_grid_ex(const char *path, const cg_tensor *images,
                          const cg_grid_options *options) {
    if (!cg_check_arg(images, "image_save_grid", "images")) return -1;
    static const cg_grid_options defaults = {0};
    grid g;
    if (!plan_grid(images, options ? options : &defaults, &g)) return -1;
    int64_t bytes = g.width * g.height * g.channels;
    uint8_t *pic = cg_alloc((size_t)bytes);
    uint8_t *tile = cg_alloc((size_t)(g.h * g.w * g.channels));
    if (!pic || !tile) {
        cg_dealloc(pic);
        cg_dealloc(tile);
        return -1;
    }
    memset(pic, 48, (size_t)bytes); // dark gray borders and label strips
    draw_tiles(images, &g, options && options->labels, pic, tile);
    cg_dealloc(tile);
    int rc =
        cg_image_write_png(path, pic, (int)g.width, (int)g.height, g.channels, "image_save_grid");
    cg_dealloc(pic);
    return rc;
}

int cg_image_save_grid(const char *path, const cg_tensor *images, int columns, int scale) {
    cg_grid_options o = {.columns = columns, .scale = scale == 0 ? 1 : scale}; // < 0: refused
    return cg_image_save_grid_ex(path, images, &o);
}
