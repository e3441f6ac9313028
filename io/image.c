// io/image.c - image decoding/preparation (stb_image, stb_image_resize) and the PNG encoder
// (stb_image_write; the grids that use it are in io/image_grid.c).
//
// The decoder is the system's stb_image (Debian ships 2.27), built with only the formats
// users feed a classifier: PNG, JPEG and BMP (GIF, TGA, PSD, PNM, HDR and PIC are compiled
// out: TGA has no magic number, so any short file "decoded" as a 16384x16384 TGA, and 2.27's
// PNM reader has an integer overflow). Before decoding, the file is read whole (at most
// CG_IMAGE_MAX_FILE_BYTES), its header dims are checked against the limits in image.h, and
// a JPEG whose Huffman tables (DHT) hold more than 256 codes is refused: 2.27's
// stbi__build_huffman writes past its arrays for those (fixed upstream in 2.28).
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "atomic_file_internal.h"
#include "image.h"
#include "image_internal.h"

// stb allocates through cgrad's allocator; realloc is malloc + copy + free.
static void *stb_realloc_sized(void *p, size_t old_size, size_t new_size) {
    void *q = cg_alloc(new_size);
    if (q && p) memcpy(q, p, old_size < new_size ? old_size : new_size);
    if (q) cg_dealloc(p);
    return q;
}

// The implementations are static: private to this file, so a program linking cgrad can
// still use its own copy of stb.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO                       // files are read by read_image_file, with its limits
#define STBI_MAX_DIMENSIONS                 CG_IMAGE_MAX_SIDE
#define STBI_MALLOC(sz)                     cg_alloc(sz)
#define STBI_FREE(p)                        cg_dealloc(p)
#define STBI_REALLOC_SIZED(p, oldsz, newsz) stb_realloc_sized(p, oldsz, newsz)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STBIW_MALLOC(sz)                     cg_alloc(sz)
#define STBIW_FREE(p)                        cg_dealloc(p)
#define STBIW_REALLOC_SIZED(p, oldsz, newsz) stb_realloc_sized(p, oldsz, newsz)
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STBIR_MALLOC(size, c) ((void)(c), cg_alloc(size))
#define STBIR_FREE(ptr, c)    ((void)(c), cg_dealloc(ptr))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#pragma GCC diagnostic pop
// GCC checks "declared static but never defined" (stbi_set_unpremultiply_on_load_thread) at
// the end of the file, outside the push/pop above.
#pragma GCC diagnostic ignored "-Wunused-function"

// ---- loading ------------------------------------------------------------------------------

// The whole file (cg_dealloc it) and its size, or NULL after reporting why.
static uint8_t *read_image_file(const char *path, size_t *size) {
    if (!path) return cg_error(CG_ERR_ARG, "image: path is NULL");
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        cg_error(CG_ERR_IO, "image: cannot open %s: %s", path, strerror(errno));
        if (f) fclose(f);
        return NULL;
    }
    const char *why = S_ISDIR(st.st_mode)                    ? "is a directory"
                      : !S_ISREG(st.st_mode)                 ? "not a regular file"
                      : st.st_size > CG_IMAGE_MAX_FILE_BYTES ? "larger than CG_IMAGE_MAX_FILE_BYTES"
                                                             : NULL;
    uint8_t *bytes = why ? NULL : cg_alloc((size_t)st.st_size + 1);
    if (bytes && fread(bytes, 1, (size_t)st.st_size, f) != (size_t)st.st_size) why = "read failed";
    fclose(f);
    if (why) {
        cg_error(CG_ERR_IO, "image: cannot read %s: %s (%lld bytes)", path, why,
                 (long long)st.st_size);
        cg_dealloc(bytes);
        return NULL;
    }
    *size = (size_t)st.st_size;
    return bytes;
}

// Every DHT segment's tables hold at most 256 codes. Checked wherever the bytes FF C4
// occur (a superset of what the decoder will parse as DHT, however it resyncs), reading
// the tables as stb does: a length, then per table a class/id byte, 16 counts and the
// values; stb reads zeros past the end, which hold no codes.
static bool jpeg_tables_fit(const uint8_t *b, size_t n) {
    for (size_t at = 0; at + 1 < n; at++) {
        if (b[at] != 0xFF || b[at + 1] != 0xC4) continue;
        size_t p = at + 2;
        long left = p + 1 < n ? (long)(b[p] << 8 | b[p + 1]) - 2 : 0;
        for (p += 2; left > 0 && p < n; left -= 17) {
            int q = b[p++], codes = 0;
            if (q >> 4 > 1 || (q & 15) > 3) break; // stb stops here ("bad DHT header")
            for (int i = 0; i < 16; i++, p++) codes += p < n ? b[p] : 0;
            if (codes > 256) return false;
            p += (size_t)codes;
            left -= codes;
        }
    }
    return true;
}

// What stb takes for a JPEG: an SOI marker, which (as every JPEG marker) may be preceded by
// any number of 0xFF fill bytes, so FF FF D8 is a JPEG too (found by fuzz_image).
static bool looks_like_jpeg(const uint8_t *b, size_t n) {
    if (n < 2 || b[0] != 0xFF) return false;
    size_t p = 1;
    while (p < n && b[p] == 0xFF) p++;
    return p < n && b[p] == 0xD8;
}

// Every PNG chunk fits in the file: stb 2.27 grows its IDAT buffer to the length a chunk
// claims before reading it, so a 99-byte file asked for 1.4 GB (found by fuzz_image).
static bool png_chunks_fit(const uint8_t *b, size_t n) {
    for (size_t p = 8; p + 8 <= n;) {
        size_t length =
            (size_t)b[p] << 24 | (size_t)b[p + 1] << 16 | (size_t)b[p + 2] << 8 | b[p + 3];
        if (length > n - p - 8) return false;
        if (memcmp(b + p + 4, "IEND", 4) == 0) break;
        p += 12 + length;
    }
    return true;
}

// ---- header limits: one check for every format ------------------------------------------

// The width and height a file's header claims, read here rather than by stbi_info: stb
// refuses a side above STBI_MAX_DIMENSIONS as "unknown image type" (it then tries the other
// formats), and a BMP's height is signed (negative: top-down), which stbi_info passes on as
// is, so a 54-byte top-down BMP once passed every limit and decoded 2 GB.
typedef struct image_header {
    const char *format; // "PNG", "JPEG", "BMP", or NULL when the bytes are none of them
    int64_t w, h;       // absolute values, as the decoder will use them; -1 if not found
} image_header;

static int64_t be16(const uint8_t *b) {
    return (int64_t)b[0] << 8 | b[1];
}
static int64_t be32(const uint8_t *b) {
    return (int64_t)b[0] << 24 | (int64_t)b[1] << 16 | (int64_t)b[2] << 8 | b[3];
}
static int64_t le32_signed(const uint8_t *b) {
    return (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                     (uint32_t)b[3] << 24);
}

// A JPEG's frame header (SOF0..SOF15 but DHT, JPG and DAC): segments are walked from SOI as
// stb does until the first one; dims stay -1 if none comes before the scan.
static void jpeg_dims(const uint8_t *b, size_t n, image_header *hd) {
    size_t p = 1;
    while (p < n && b[p] == 0xFF) p++;
    for (p++; p + 1 < n;) { // at the next marker
        if (b[p] != 0xFF) return;
        while (p < n && b[p] == 0xFF) p++;
        if (p + 6 >= n) return;
        uint8_t m = b[p];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            hd->h = be16(b + p + 4);
            hd->w = be16(b + p + 6);
            return;
        }
        if (m == 0xDA || m == 0xD9) return;
        p += 1 + (size_t)be16(b + p + 1);
    }
}

static image_header image_header_of(const uint8_t *b, size_t n) {
    image_header hd = {NULL, -1, -1};
    if (n >= 24 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
        hd.format = "PNG";
        if (memcmp(b + 12, "IHDR", 4) == 0) hd.w = be32(b + 16), hd.h = be32(b + 20);
    } else if (looks_like_jpeg(b, n)) {
        hd.format = "JPEG";
        jpeg_dims(b, n, &hd);
    } else if (n >= 26 && b[0] == 'B' && b[1] == 'M') {
        hd.format = "BMP";
        int64_t info = le32_signed(b + 14);
        if (info == 12) // OS/2 header: 16-bit unsigned sides
            hd.w = b[18] | b[19] << 8, hd.h = b[20] | b[21] << 8;
        else
            hd.w = llabs(le32_signed(b + 18)), hd.h = llabs(le32_signed(b + 22));
    }
    return hd;
}

// The limits of image.h, on absolute 64-bit sides, for every format alike.
static bool header_fits(const char *path, const image_header *hd, size_t size) {
    if (hd->w < 0 || hd->h < 0) return true; // no header found: stb reports what is wrong
    // The sides first: two sides below 2^32 can still multiply past 2^63 (found by fuzz_image).
    bool sides_fit = hd->w <= CG_IMAGE_MAX_SIDE && hd->h <= CG_IMAGE_MAX_SIDE;
    int64_t pixels = sides_fit ? hd->w * hd->h : 0; // bounded: both sides checked above
    if (sides_fit && pixels <= CG_IMAGE_MAX_PIXELS &&
        pixels <= CG_IMAGE_MAX_PIXELS_PER_BYTE * (int64_t)size + (1 << 20))
        return true;
    cg_error(CG_ERR_FORMAT,
             "image: %s: %s header says %lldx%lld pixels, beyond the limits for a %zu-byte file "
             "(image.h: CG_IMAGE_MAX_SIDE %d, CG_IMAGE_MAX_PIXELS %lld, at most %d pixels per "
             "byte beyond 1 Mi)",
             path, hd->format, (long long)hd->w, (long long)hd->h, size, CG_IMAGE_MAX_SIDE,
             (long long)CG_IMAGE_MAX_PIXELS, CG_IMAGE_MAX_PIXELS_PER_BYTE);
    return false;
}

// The guards: the header's dims (on absolute values, against the limits of image.h, before
// and after stb reads them) and channels, or false after cg_error naming the file.
static bool probe(const char *path, const uint8_t *bytes, size_t size, int *w, int *h,
                  int *channels) {
    // First: stbi_info already parses the DHT segments before the frame header.
    if (looks_like_jpeg(bytes, size) && !jpeg_tables_fit(bytes, size))
        return (bool)cg_error(
            CG_ERR_FORMAT,
            "image: cannot decode %s: a JPEG Huffman table holds more than 256 codes "
            "(corrupt JPEG)",
            path);
    if (size > 8 && memcmp(bytes, "\x89PNG", 4) == 0 && !png_chunks_fit(bytes, size))
        return (bool)cg_error(
            CG_ERR_FORMAT,
            "image: cannot decode %s: a PNG chunk is longer than the file (truncated "
            "or corrupt PNG)",
            path);
    image_header hd = image_header_of(bytes, size);
    if (!header_fits(path, &hd, size)) return false;
    if (size > INT32_MAX || !stbi_info_from_memory(bytes, (int)size, w, h, channels))
        return (bool)cg_error(
            CG_ERR_FORMAT, "image: cannot decode %s: %s (%s; cgrad reads PNG, JPEG and BMP)", path,
            stbi_failure_reason(), hd.format ? hd.format : "not a PNG, JPEG or BMP header");
    // What stb will decode, checked again in case its reading of the header differs.
    image_header seen = {hd.format ? hd.format : "image", llabs((long long)*w),
                         llabs((long long)*h)};
    return header_fits(path, &seen, size);
}

// Decodes with `want` channels (0: the file's own, returned in *native), after the guards.
static stbi_uc *decode(const char *path, const uint8_t *bytes, size_t size, int *w, int *h,
                       int want, int *native) {
    int channels;
    if (!probe(path, bytes, size, w, h, &channels)) return NULL;
    stbi_uc *decoded = stbi_load_from_memory(bytes, (int)size, w, h, &channels, want);
    if (!decoded)
        return cg_error(CG_ERR_FORMAT, "image: cannot decode %s: %s", path, stbi_failure_reason());
    if (native) *native = channels;
    return decoded;
}

static stbi_uc *decode_gray(const char *path, const uint8_t *bytes, size_t size, int *w, int *h) {
    return decode(path, bytes, size, w, h, 1, NULL);
}

// PIL's convert between "L", "LA", "RGB" and "RGBA" (Pillow 9's L24 luma for colour -> L:
// (19595 R + 38470 G + 7471 B + 0x8000) >> 16; alpha dropped, or 255 when added).
static void convert_pixel(const stbi_uc *s, int from, uint8_t *d, int to) {
    bool colour = from >= 3;
    uint8_t r = s[0], g = colour ? s[1] : s[0], b = colour ? s[2] : s[0];
    uint8_t a = from == 2 || from == 4 ? s[from - 1] : 255;
    if (to == 1) {
        d[0] = colour ? (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16) : r;
        return;
    }
    d[0] = r, d[1] = g, d[2] = b;
    if (to == 4) d[3] = a;
}

int cg_image_probe(const char *path, int *width, int *height, int *channels) {
    size_t size = 0;
    uint8_t *bytes = read_image_file(path, &size);
    if (!bytes) return -1;
    int w = 0, h = 0, c = 0;
    bool ok = probe(path, bytes, size, &w, &h, &c);
    cg_dealloc(bytes);
    if (ok && width) *width = w;
    if (ok && height) *height = h;
    if (ok && channels) *channels = c;
    return ok ? 0 : -1;
}

uint8_t *cg_image_load_pixels(const char *path, int channels, int *width, int *height) {
    if (channels != 1 && channels != 3 && channels != 4)
        return cg_error(CG_ERR_ARG, "image_load_pixels: channels must be 1, 3 or 4, got %d",
                        channels);
    size_t size = 0;
    uint8_t *bytes = read_image_file(path, &size);
    if (!bytes) return NULL;
    int w = 0, h = 0, native = 0;
    stbi_uc *pixels = decode(path, bytes, size, &w, &h, 0, &native);
    cg_dealloc(bytes);
    if (!pixels) return NULL;
    uint8_t *out = cg_alloc((size_t)w * (size_t)h * (size_t)channels);
    if (out)
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
            convert_pixel(pixels + i * (size_t)native, native, out + i * (size_t)channels,
                          channels);
    stbi_image_free(pixels);
    if (out && width) *width = w;
    if (out && height) *height = h;
    return out;
}

cg_tensor *cg_image_load_gray(const char *path) {
    size_t size = 0;
    uint8_t *bytes = read_image_file(path, &size);
    if (!bytes) return NULL;
    int w = 0, h = 0;
    stbi_uc *pixels = decode_gray(path, bytes, size, &w, &h);
    cg_dealloc(bytes);
    if (!pixels) return NULL;
    cg_tensor *t = cg_empty_unscoped(CG_SHAPE(1, 1, h, w));
    if (t)
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = pixels[i] / 255.0f;
    stbi_image_free(pixels);
    return t;
}

static float border_mean(const float *p, int w, int h) {
    double sum = 0;
    int64_t count = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (y == 0 || y == h - 1 || x == 0 || x == w - 1) {
                sum += p[(int64_t)y * w + x];
                count++;
            }
    return count ? (float)(sum / (double)count) : 0.0f;
}

// Bounding box [x0,x1) x [y0,y1) of pixels above threshold; the whole image if none is.
static void content_box(const float *p, int w, int h, float threshold, int box[4]) {
    int x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (p[(int64_t)y * w + x] > threshold) {
                x0 = x < x0 ? x : x0;
                y0 = y < y0 ? y : y0;
                x1 = x + 1 > x1 ? x + 1 : x1;
                y1 = y + 1 > y1 ? y + 1 : y1;
            }
    if (x1 == 0) x0 = 0, y0 = 0, x1 = w, y1 = h;
    box[0] = x0, box[1] = y0, box[2] = x1, box[3] = y1;
}

// Steps 1-4 of cg_image_load_mnist (image.h) on the w x h pixels `work`, which are inverted
// in place (the caller's own copy: loading does not need a second full-size one).
static cg_tensor *prepare_pixels(float *work, int w, int h, const cg_image_options *options) {
    cg_image_options o = options ? *options : (cg_image_options){0};
    int size = o.size ? o.size : 28, box_side = o.box ? o.box : size;
    float threshold = o.crop_threshold > 0 ? o.crop_threshold : 0.1f;
    cg_tensor *out = cg_empty_unscoped(CG_SHAPE(1, 1, size, size));
    float *scaled = NULL;
    if (!out) return NULL;
    bool invert = o.invert == CG_INVERT_ALWAYS ||
                  (o.invert == CG_INVERT_AUTO && border_mean(work, w, h) > 0.5f);
    if (invert)
        for (int64_t i = 0; i < (int64_t)w * h; i++) work[i] = 1.0f - work[i];
    int b[4] = {0, 0, w, h};
    if (!o.no_crop) content_box(work, w, h, threshold, b);
    int cw = b[2] - b[0], ch = b[3] - b[1], longer = cw > ch ? cw : ch;
    int ow = (int)lround((double)cw * box_side / longer),
        oh = (int)lround((double)ch * box_side / longer);
    ow = ow < 1 ? 1 : ow;
    oh = oh < 1 ? 1 : oh;
    scaled = cg_alloc((size_t)ow * oh * sizeof(float));
    if (!scaled) goto fail;
    const float *crop = work + (int64_t)b[1] * w + b[0];
    if (!stbir_resize_float(crop, cw, ch, w * (int)sizeof(float), scaled, ow, oh, 0, 1)) {
        cg_error(CG_ERR_MEMORY, "image_prepare: resize %dx%d -> %dx%d failed", cw, ch, ow, oh);
        goto fail;
    }
    memset(out->data, 0, (size_t)out->numel * sizeof(float));
    int x0 = (size - ow) / 2, y0 = (size - oh) / 2;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            float v = scaled[(int64_t)y * ow + x];
            out->data[(int64_t)(y0 + y) * size + x0 + x] = v < 0 ? 0 : (v > 1 ? 1 : v);
        }
    cg_dealloc(scaled);
    return out;
fail:
    cg_dealloc(scaled);
    cg_free(out);
    return NULL;
}

// The checks of cg_image_prepare_mnist; false after reporting.
static bool prepare_args_ok(const cg_tensor *gray, const cg_image_options *options) {
    if (!cg_check_arg(gray, "image_prepare", "image")) return false;
    cg_image_options o = options ? *options : (cg_image_options){0};
    int size = o.size ? o.size : 28, box_side = o.box ? o.box : size;
    bool shape_ok =
        gray->ndim == 2 || (gray->ndim == 4 && gray->shape[0] == 1 && gray->shape[1] == 1);
    if (!shape_ok)
        return cg_error(CG_ERR_SHAPE, "image_prepare: image must be (H,W) or (1,1,H,W), got %s",
                        cg_tensor_shape_str(gray)),
               false;
    if (size < 1 || box_side < 1 || box_side > size || size > 4096)
        return cg_error(CG_ERR_ARG, "image_prepare: need 1 <= box (%d) <= size (%d) <= 4096",
                        box_side, size),
               false;
    if (!(o.crop_threshold >= 0 && o.crop_threshold < 1)) // NaN too
        return cg_error(CG_ERR_ARG, "image_prepare: crop_threshold %g is not in [0, 1)",
                        o.crop_threshold),
               false;
    if (o.invert != CG_INVERT_AUTO && o.invert != CG_INVERT_NEVER && o.invert != CG_INVERT_ALWAYS)
        return cg_error(CG_ERR_ARG, "image_prepare: invert %d is not a cg_image_invert",
                        (int)o.invert),
               false;
    int64_t h = gray->shape[gray->ndim - 2], w = gray->shape[gray->ndim - 1];
    if (w < 1 || h < 1 || w > CG_IMAGE_MAX_SIDE || h > CG_IMAGE_MAX_SIDE)
        return cg_error(CG_ERR_SHAPE, "image_prepare: image %s is empty or wider than %d",
                        cg_tensor_shape_str(gray), CG_IMAGE_MAX_SIDE),
               false;
    return true;
}

cg_tensor *cg_image_prepare_mnist(const cg_tensor *gray, const cg_image_options *options) {
    if (!prepare_args_ok(gray, options)) return NULL;
    int h = (int)gray->shape[gray->ndim - 2], w = (int)gray->shape[gray->ndim - 1];
    float *work = cg_alloc((size_t)w * h * sizeof(float));
    if (!work) return NULL;
    memcpy(work, gray->data, (size_t)w * h * sizeof(float));
    cg_tensor *out = prepare_pixels(work, w, h, options);
    cg_dealloc(work);
    return out;
}

cg_tensor *cg_image_load_mnist(const char *path, const cg_image_options *options) {
    cg_tensor *gray = cg_image_load_gray(path);
    cg_tensor *out =
        gray && prepare_args_ok(gray, options)
            ? prepare_pixels(gray->data, (int)gray->shape[3], (int)gray->shape[2], options)
            : NULL;
    cg_free(gray);
    return out;
}

// ---- PNG encoding --------------------------------------------------------------------------

static void write_to_file(void *context, void *data, int size) {
    cg_atomic_file *af = context;
    if (fwrite(data, 1, (size_t)size, af->f) != (size_t)size) af->failed = true;
}

int cg_image_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                       const char *who) {
    cg_atomic_file af;
    int rc = cg_atomic_open(&af, path, who);
    if (rc == 0) {
        if (!stbi_write_png_to_func(write_to_file, &af, width, height, channels, pixels,
                                    width * channels))
            af.failed = true;
        rc = cg_atomic_commit(&af);
    }
    return rc;
}
