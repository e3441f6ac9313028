// io/pth_zip.c - the zip container of PyTorch's .pth files (io/pth_internal.h): a reader of
// stored and deflated entries that trusts no size it reads, and a writer of stored entries
// laid out as PyTorch's own writer lays them out.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "../tensor/checked.h"
#include "../tensor/error.h"
#include "pth_internal.h"

#define LOCAL_SIG     0x04034b50u
#define CENTRAL_SIG   0x02014b50u
#define END_SIG       0x06054b50u
#define END64_SIG     0x06064b50u
#define LOCATOR64_SIG 0x07064b50u
#define MAX_ENTRIES   (1 << 20)
// Deflate cannot compress better than 1032:1; a declared size beyond that is a zip bomb.
#define DEFLATE_MAX_RATIO 1032

static uint64_t le(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int corrupt(const cg_zip *z, const char *what) {
    cg_error(CG_ERR_FORMAT, "pth: %s: %s (not a PyTorch zip file, or truncated)", z->path, what);
    return -1;
}

static int read_whole_file(cg_zip *z, const char *path) {
    FILE *f = fopen(path, "rb");
    struct stat st;
    const char *why = NULL;
    if (!f || fstat(fileno(f), &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    if (!why) {
        z->file_size = st.st_size;
        z->data = cg_alloc((size_t)(z->file_size > 0 ? z->file_size : 1));
        if (!z->data) { // reported by cg_alloc
            fclose(f);
            return -1;
        }
        if ((int64_t)fread(z->data, 1, (size_t)z->file_size, f) != z->file_size)
            why = "read failed";
    }
    if (f) fclose(f);
    if (!why) return 0;
    cg_error(CG_ERR_IO, "pth: cannot read %s: %s", path, why);
    return -1;
}

// The end of central directory record (the last one: a comment may precede nothing).
static int64_t find_end(const cg_zip *z) {
    for (int64_t i = z->file_size - 22; i >= 0 && i >= z->file_size - 22 - 65535; i--)
        if (le(z->data + i, 4) == END_SIG) return i;
    return -1;
}

// Count, offset and size of the central directory, from the zip64 record when the classic
// one says 0xFFFF.../the sizes overflow 32 bits (files over 4 GB).
static int central_directory(cg_zip *z, int64_t end, uint64_t *count, uint64_t *offset,
                             uint64_t *size) {
    const uint8_t *e = z->data + end;
    *count = le(e + 10, 2), *size = le(e + 12, 4), *offset = le(e + 16, 4);
    if (*count != 0xFFFF && *size != 0xFFFFFFFF && *offset != 0xFFFFFFFF) return 0;
    if (end < 20 || le(e - 20, 4) != LOCATOR64_SIG) return corrupt(z, "zip64 locator missing");
    uint64_t at = le(e - 20 + 8, 8);
    if (at > (uint64_t)z->file_size - 56 || z->file_size < 56 || le(z->data + at, 4) != END64_SIG)
        return corrupt(z, "zip64 end record out of the file");
    const uint8_t *r = z->data + at;
    *count = le(r + 32, 8), *size = le(r + 40, 8), *offset = le(r + 48, 8);
    return 0;
}

// Replace 0xFFFFFFFF sizes and offset by the zip64 extra field (id 1) values, in order.
static int zip64_extra(const cg_zip *z, const uint8_t *extra, uint64_t n, cg_zip_entry *e) {
    int64_t *fields[3] = {&e->size, &e->compressed, &e->header_offset};
    for (uint64_t i = 0; i + 4 <= n;) {
        uint64_t id = le(extra + i, 2), len = le(extra + i + 2, 2);
        if (i + 4 + len > n) return corrupt(z, "extra field past its record");
        if (id == 1) {
            uint64_t at = 0;
            for (int k = 0; k < 3; k++) {
                if ((uint64_t)*fields[k] != 0xFFFFFFFF) continue;
                if (at + 8 > len) return corrupt(z, "short zip64 extra field");
                uint64_t v = le(extra + i + 4 + at, 8);
                if (v > (uint64_t)INT64_MAX) return corrupt(z, "zip64 size out of range");
                *fields[k] = (int64_t)v, at += 8;
            }
        }
        i += 4 + len;
    }
    return 0;
}

static int read_entry(cg_zip *z, const uint8_t *c, uint64_t room, uint64_t *used) {
    if (room < 46 || le(c, 4) != CENTRAL_SIG) return corrupt(z, "bad central directory record");
    uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2), comment = le(c + 32, 2);
    *used = 46 + name_len + extra_len + comment;
    if (*used > room) return corrupt(z, "central directory record past its end");
    if (CG_ARRAY_PUSH(z->entries, z->count, z->capacity, (cg_zip_entry){0}) < 0) return -1;
    cg_zip_entry *e = &z->entries[z->count - 1];
    e->method = (int)le(c + 10, 2);
    e->crc = (uint32_t)le(c + 16, 4);
    e->compressed = (int64_t)le(c + 20, 4), e->size = (int64_t)le(c + 24, 4);
    e->header_offset = (int64_t)le(c + 42, 4);
    e->name = cg_alloc(name_len + 1);
    if (!e->name) return -1;
    memcpy(e->name, c + 46, name_len);
    e->name[name_len] = 0;
    return zip64_extra(z, c + 46 + name_len, extra_len, e);
}

int cg_zip_open(cg_zip *z, const char *path) {
    memset(z, 0, sizeof *z);
    z->path = path;
    if (read_whole_file(z, path) != 0) return cg_zip_close(z), -1;
    int64_t end = find_end(z);
    uint64_t count, offset, size;
    int rc = end < 0 ? corrupt(z, "no end of central directory record") : 0;
    if (rc == 0) rc = central_directory(z, end, &count, &offset, &size);
    if (rc == 0 && (offset > (uint64_t)z->file_size || size > (uint64_t)z->file_size - offset))
        rc = corrupt(z, "central directory out of the file");
    if (rc == 0 && (count > MAX_ENTRIES || count > size / 46))
        rc = corrupt(z, "impossible number of entries");
    for (uint64_t i = 0, at = 0, used = 0; rc == 0 && i < count; i++, at += used)
        rc = read_entry(z, z->data + offset + at, size - at, &used);
    if (rc != 0) cg_zip_close(z);
    return rc;
}

void cg_zip_close(cg_zip *z) {
    for (int64_t i = 0; i < z->count; i++) cg_dealloc(z->entries[i].name);
    cg_dealloc(z->entries);
    cg_dealloc(z->data);
    memset(z, 0, sizeof *z);
}

const cg_zip_entry *cg_zip_find(const cg_zip *z, const char *name) {
    for (int64_t i = 0; i < z->count; i++)
        if (strcmp(z->entries[i].name, name) == 0) return &z->entries[i];
    return NULL;
}

static int bad_entry(const cg_zip *z, const cg_zip_entry *e, const char *what) {
    cg_error(CG_ERR_FORMAT, "pth: %s: entry '%s': %s", z->path, e->name, what);
    return -1;
}

static uInt chunk(int64_t n) {
    return (uInt)(n < (1 << 30) ? n : (1 << 30));
}

// Inflate exactly e->size bytes from src into out; a spare byte beyond them shows an entry
// that inflates to more than it declares.
static int inflate_entry(const cg_zip *z, const cg_zip_entry *e, const uint8_t *src, uint8_t *out) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, -MAX_WBITS) != Z_OK) return bad_entry(z, e, "zlib init failed");
    int64_t in_done = 0, out_done = 0;
    int rc = Z_OK;
    bool over = false;
    uint8_t spare;
    while (rc == Z_OK) {
        int64_t out_left = e->size - out_done;
        s.next_in = (Bytef *)(src + in_done), s.avail_in = chunk(e->compressed - in_done);
        s.next_out = out_left ? out + out_done : &spare,
        s.avail_out = out_left ? chunk(out_left) : 1;
        uInt in_before = s.avail_in, out_before = s.avail_out;
        rc = inflate(&s, Z_NO_FLUSH);
        in_done += in_before - s.avail_in;
        if (!out_left && s.avail_out == 0) over = true;
        if (over) break;
        out_done += out_before - s.avail_out;
    }
    inflateEnd(&s);
    if (over) return bad_entry(z, e, "inflates to more than its declared size (zip bomb?)");
    if (rc != Z_STREAM_END || out_done != e->size)
        return bad_entry(z, e, "corrupt deflate data or wrong declared size");
    return 0;
}

uint8_t *cg_zip_read(const cg_zip *z, const cg_zip_entry *e, int64_t *size) {
    int64_t h = e->header_offset, data_at;
    if (h < 0 || h > z->file_size - 30 || le(z->data + h, 4) != LOCAL_SIG)
        return bad_entry(z, e, "local header out of the file"), NULL;
    data_at = h + 30 + (int64_t)le(z->data + h + 26, 2) + (int64_t)le(z->data + h + 28, 2);
    if (e->compressed < 0 || e->size < 0 || data_at > z->file_size ||
        e->compressed > z->file_size - data_at)
        return bad_entry(z, e, "data past the end of the file"), NULL;
    int64_t bound = 0;
    if (e->method == 0 && e->size != e->compressed)
        return bad_entry(z, e, "stored entry with two sizes"), NULL;
    if (e->method == 8 &&
        (cg_mul_overflows(e->compressed + 1, DEFLATE_MAX_RATIO, &bound) || e->size > bound))
        return bad_entry(z, e, "declared size beyond deflate's ratio (zip bomb?)"), NULL;
    if (e->method != 0 && e->method != 8)
        return bad_entry(z, e, "compression method is neither stored nor deflate"), NULL;
    uint8_t *out = cg_alloc((size_t)(e->size > 0 ? e->size : 1));
    if (!out) return NULL;
    const uint8_t *src = z->data + data_at;
    int rc = 0;
    if (e->method == 0)
        memcpy(out, src, (size_t)e->size);
    else
        rc = inflate_entry(z, e, src, out);
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int64_t done = 0; rc == 0 && done < e->size; done += chunk(e->size - done))
        crc = crc32(crc, out + done, chunk(e->size - done));
    if (rc == 0 && (uint32_t)crc != e->crc) rc = bad_entry(z, e, "CRC mismatch");
    if (rc != 0) return cg_dealloc(out), NULL;
    *size = e->size;
    return out;
}

// ---- writing --------------------------------------------------------------------------------

static void put(cg_zip_writer *w, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) fputc((int)((v >> (8 * i)) & 0xFF), w->file.f);
    w->offset += bytes;
}

static void put_bytes(cg_zip_writer *w, const void *p, int64_t n) {
    if (n > 0 && !w->file.failed && fwrite(p, 1, (size_t)n, w->file.f) != (size_t)n) {
        cg_error(CG_ERR_IO, "%s: %s: write failed", w->file.who, w->file.path);
        w->file.failed = true;
    }
    w->offset += n;
}

int cg_zip_writer_open(cg_zip_writer *w, const char *path, const char *who) {
    memset(w, 0, sizeof *w);
    return cg_atomic_open(&w->file, path, who);
}

// Offsets and sizes must fit the classic 32-bit fields (no zip64 writer).
static bool fits(cg_zip_writer *w, int64_t more) {
    if (w->offset + more < 0xFFFFFFFFLL) return true;
    cg_error(CG_ERR_ARG, "%s: %s would pass 4 GB, which needs zip64 (not written by cgrad)",
             w->file.who, w->file.path);
    w->file.failed = true;
    return false;
}

int cg_zip_writer_add(cg_zip_writer *w, const char *name, const void *data, int64_t size) {
    size_t name_len = strlen(name);
    int64_t header_end = w->offset + 30 + (int64_t)name_len + 4;
    int64_t pad = (64 - header_end % 64) % 64; // data at a multiple of 64, as PyTorch
    if (w->file.failed || !fits(w, 30 + (int64_t)name_len + 4 + pad + size)) return -1;
    cg_zip_entry e = {NULL, w->offset, size, size, 0, 0};
    e.crc = (uint32_t)crc32(0L, data, (uInt)size);
    e.name = cg_alloc(name_len + 1);
    if (!e.name || CG_ARRAY_PUSH(w->entries, w->count, w->capacity, e) < 0) {
        cg_dealloc(e.name);
        w->file.failed = true;
        return -1;
    }
    memcpy(e.name, name, name_len + 1);
    put(w, LOCAL_SIG, 4), put(w, 20, 2), put(w, 0, 2), put(w, 0, 2), put(w, 0, 4);
    put(w, e.crc, 4), put(w, (uint64_t)size, 4), put(w, (uint64_t)size, 4);
    put(w, name_len, 2), put(w, (uint64_t)(4 + pad), 2);
    put_bytes(w, name, (int64_t)name_len);
    put(w, 0x4246, 2), put(w, (uint64_t)pad, 2); // "FB": PyTorch's padding field
    for (int64_t i = 0; i < pad; i++) put(w, 'Z', 1);
    put_bytes(w, data, size);
    return w->file.failed ? -1 : 0;
}

int cg_zip_writer_finish(cg_zip_writer *w) {
    int64_t start = w->offset;
    for (int64_t i = 0; i < w->count && !w->file.failed; i++) {
        const cg_zip_entry *e = &w->entries[i];
        size_t name_len = strlen(e->name);
        if (!fits(w, 46 + (int64_t)name_len)) break;
        put(w, CENTRAL_SIG, 4), put(w, 20, 2), put(w, 20, 2), put(w, 0, 2), put(w, 0, 2);
        put(w, 0, 4), put(w, e->crc, 4), put(w, (uint64_t)e->size, 4);
        put(w, (uint64_t)e->size, 4), put(w, name_len, 2), put(w, 0, 2), put(w, 0, 2);
        put(w, 0, 2), put(w, 0, 2), put(w, 0, 4), put(w, (uint64_t)e->header_offset, 4);
        put_bytes(w, e->name, (int64_t)name_len);
    }
    int64_t size = w->offset - start;
    put(w, END_SIG, 4), put(w, 0, 2), put(w, 0, 2), put(w, (uint64_t)w->count, 2);
    put(w, (uint64_t)w->count, 2), put(w, (uint64_t)size, 4), put(w, (uint64_t)start, 4);
    put(w, 0, 2);
    if (w->count > 0xFFFF) {
        cg_error(CG_ERR_ARG, "%s: %s: more than 65535 tensors (zip64 is not written)", w->file.who,
                 w->file.path);
        w->file.failed = true;
    }
    for (int64_t i = 0; i < w->count; i++) cg_dealloc(w->entries[i].name);
    cg_dealloc(w->entries);
    w->entries = NULL, w->count = 0;
    if (!w->file.failed) return cg_atomic_commit(&w->file);
    cg_atomic_abort(&w->file); // the error is reported already (memory, size, write)
    return -1;
}
