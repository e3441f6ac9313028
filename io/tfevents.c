// io/tfevents.c - TensorBoard event files: TFRecord framing around Event protobufs.
//
// A record is: uint64 length, uint32 masked CRC32C of those 8 bytes, the data, uint32
// masked CRC32C of the data (all little-endian). The data is an Event (tensorflow's
// core/util/event.proto) encoded by the few protobuf rules it needs:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3;
//             Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// Fields holding their default (0) are left out, as proto3 serialisers do, so the bytes are
// what protobuf itself writes; tests/tfevents_check.py decodes the file with Python's protobuf
// against those definitions.
#include <errno.h>
#include <string.h>

#include "../tensor/error.h"
#include "metrics_internal.h"

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: records are tens of
// bytes, so a table would buy nothing but startup work or a thread-safety question.
static uint32_t crc32c(const uint8_t *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = crc >> 1 ^ (0x82F63B78u & (0u - (crc & 1)));
    }
    return crc ^ 0xFFFFFFFFu;
}

// TFRecord masks the CRC so that a CRC of data holding CRCs stays well distributed.
static uint32_t masked_crc(const uint8_t *p, size_t n) {
    uint32_t crc = crc32c(p, n);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

// ---- a protobuf writer into a fixed buffer ---------------------------------------------------
typedef struct pb {
    uint8_t b[256];
    size_t n;
} pb;

static void put_le(pb *o, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) o->b[o->n++] = (uint8_t)(v >> 8 * i);
}
static void put_varint(pb *o, uint64_t v) {
    for (; v >= 0x80; v >>= 7) o->b[o->n++] = (uint8_t)(v | 0x80);
    o->b[o->n++] = (uint8_t)v;
}
enum { VARINT = 0, FIXED64 = 1, BYTES = 2, FIXED32 = 5 };
static void put_key(pb *o, int field, int wire) {
    put_varint(o, (uint64_t)(field << 3 | wire));
}
// A length-delimited field holding `len` bytes (a string or a message encoded before).
static void put_bytes(pb *o, int field, const void *data, size_t len) {
    put_key(o, field, BYTES);
    put_varint(o, len);
    memcpy(o->b + o->n, data, len);
    o->n += len;
}
static void put_double(pb *o, int field, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_key(o, field, FIXED64);
    put_le(o, bits, 8);
}
static uint32_t float_bits(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}
static void put_float(pb *o, int field, float v) {
    put_key(o, field, FIXED32);
    put_le(o, float_bits(v), 4);
}

// ---- records -----------------------------------------------------------------------------------
static int write_record(FILE *f, const pb *event) {
    pb head = {.n = 0};
    put_le(&head, event->n, 8);
    put_le(&head, masked_crc(head.b, 8), 4);
    pb tail = {.n = 0};
    put_le(&tail, masked_crc(event->b, event->n), 4);
    if (fwrite(head.b, 1, head.n, f) != head.n || fwrite(event->b, 1, event->n, f) != event->n ||
        fwrite(tail.b, 1, tail.n, f) != tail.n || fflush(f))
        return cg_error(CG_ERR_IO, "metrics_log: cannot write the event file: %s", strerror(errno)),
               -1;
    return 0;
}

int cg_tfevents_begin(FILE *f, double wall_time) {
    pb event = {.n = 0};
    put_double(&event, 1, wall_time);
    static const char version[] = "brain.Event:2";
    put_bytes(&event, 3, version, sizeof version - 1);
    return write_record(f, &event);
}

int cg_tfevents_scalar(FILE *f, double wall_time, const char *tag, int64_t step, float value) {
    pb v = {.n = 0}, summary = {.n = 0}, event = {.n = 0};
    put_bytes(&v, 1, tag, strlen(tag));             // tags are under 64 bytes: everything fits
    if (float_bits(value)) put_float(&v, 2, value); // proto3 leaves zeros out
    put_bytes(&summary, 1, v.b, v.n);
    put_double(&event, 1, wall_time);
    if (step) { // int64: a negative step takes ten bytes, as in protobuf
        put_key(&event, 2, VARINT);
        put_varint(&event, (uint64_t)step);
    }
    put_bytes(&event, 5, summary.b, summary.n);
    return write_record(f, &event);
}
