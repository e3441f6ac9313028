// io/onnx_proto.c - a protobuf encoder, only what ONNX export needs: varints,
// length-delimited fields (strings, bytes, nested messages) and fixed32 floats, plus the
// ONNX messages built from them (TensorProto, ValueInfoProto).
//
// Written here instead of using protobuf-c: ONNX needs a handful of message types, whose
// field numbers (onnx/onnx.proto) are the only schema this encoder needs, so it is a few
// hundred lines with no .proto compiler step in the build and no new dependency. A nested
// message is encoded into its own buffer first and then appended with its length, which
// keeps the writer one pass per message.
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/array.h"
#include "onnx_internal.h"

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

void cg_pb_free(cg_pb *b) {
    cg_dealloc(b->data);
    *b = (cg_pb){0};
}

// Room for `more` bytes; false (and b->failed, reported) when memory runs out.
static bool reserve(cg_pb *b, size_t more) {
    if (b->failed) return false;
    if (b->len + more <= (size_t)b->cap) return true;
    if (more > (size_t)INT64_MAX - b->len ||
        cg_array_reserve(&b->data, &b->cap, (int64_t)(b->len + more), 1) < 0)
        b->failed = true;
    return !b->failed;
}

void cg_pb_raw(cg_pb *b, const void *data, size_t size) {
    if (size == 0 || !reserve(b, size)) return;
    memcpy(b->data + b->len, data, size);
    b->len += size;
}

// Seven bits at a time, low first, the high bit saying "more follows".
static void put_varint(cg_pb *b, uint64_t v) {
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) bytes[n] |= 0x80;
        n++;
    } while (v);
    cg_pb_raw(b, bytes, n);
}

static void put_tag(cg_pb *b, int field, int wire) {
    put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void cg_pb_varint(cg_pb *b, int field, uint64_t v) { // int64 fields: two's complement
    put_tag(b, field, WIRE_VARINT);
    put_varint(b, v);
}

void cg_pb_bytes(cg_pb *b, int field, const void *data, size_t size) {
    put_tag(b, field, WIRE_BYTES);
    put_varint(b, size);
    cg_pb_raw(b, data, size);
}

void cg_pb_string(cg_pb *b, int field, const char *s) {
    cg_pb_bytes(b, field, s, strlen(s));
}

void cg_pb_message(cg_pb *b, int field, const cg_pb *sub) {
    if (sub->failed) b->failed = true;
    cg_pb_bytes(b, field, sub->data, sub->len);
}

// Little-endian whatever the host's order (the wire format's and raw_data's order).
static void put_le(cg_pb *b, uint64_t v, int size) {
    uint8_t bytes[8];
    for (int i = 0; i < size; i++) bytes[i] = (uint8_t)(v >> (8 * i));
    cg_pb_raw(b, bytes, (size_t)size);
}

static uint32_t float_bits(float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

void cg_pb_float(cg_pb *b, int field, float v) {
    put_tag(b, field, WIRE_FIXED32);
    put_le(b, float_bits(v), 4);
}

// ---- ONNX messages ------------------------------------------------------------------------
enum {
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
    TYPE_TENSOR = 1,
    TENSOR_TYPE_ELEM = 1,
    TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2,
};

void cg_onnx_tensor(cg_pb *b, int field, const char *name, int ndim, const int64_t *dims,
                    const float *floats, const int64_t *ints) {
    cg_pb t = {0};
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        cg_pb_varint(&t, TENSOR_DIMS, (uint64_t)dims[i]);
        count *= dims[i];
    }
    cg_pb_varint(&t, TENSOR_DATA_TYPE, floats ? CG_ONNX_FLOAT : CG_ONNX_INT64);
    cg_pb_string(&t, TENSOR_NAME, name);
    size_t elem = floats ? 4 : 8;
    put_tag(&t, TENSOR_RAW_DATA, WIRE_BYTES);
    put_varint(&t, (uint64_t)count * elem);
    if (reserve(&t, (size_t)count * elem))
        for (int64_t i = 0; i < count; i++)
            put_le(&t, floats ? float_bits(floats[i]) : (uint64_t)ints[i], (int)elem);
    cg_pb_message(b, field, &t);
    cg_pb_free(&t);
}

void cg_onnx_value_info(cg_pb *b, int field, const char *name, int ndim, const int64_t *dims,
                        const char *param) {
    cg_pb shape = {0}, tensor = {0}, type = {0}, value = {0};
    for (int i = 0; i < ndim; i++) {
        cg_pb dim = {0};
        if (dims[i] < 0)
            cg_pb_string(&dim, DIM_PARAM, param);
        else
            cg_pb_varint(&dim, DIM_VALUE, (uint64_t)dims[i]);
        cg_pb_message(&shape, SHAPE_DIM, &dim);
        cg_pb_free(&dim);
    }
    cg_pb_varint(&tensor, TENSOR_TYPE_ELEM, CG_ONNX_FLOAT);
    cg_pb_message(&tensor, TENSOR_TYPE_SHAPE, &shape);
    cg_pb_message(&type, TYPE_TENSOR, &tensor);
    cg_pb_string(&value, VALUE_NAME, name);
    cg_pb_message(&value, VALUE_TYPE, &type);
    cg_pb_message(b, field, &value);
    cg_pb_free(&shape);
    cg_pb_free(&tensor);
    cg_pb_free(&type);
    cg_pb_free(&value);
}
