#!/usr/bin/python3
# tests/tfevents_check.py DIR - decode the TensorBoard event file test_metrics wrote in DIR
# with Python's protobuf, against the message definitions of
# tests/fixtures/tfevents_subset.proto (TensorBoard's field numbers), and check every
# record: both masked CRC32Cs, the first event's file_version, and that the scalar events
# hold exactly the tags, steps and values of DIR/metrics.csv (rounded to float32), in order.
# check(DIR) is that check for any run directory (tests/image_folder_log_check.py uses it);
# main adds the steps test_metrics logs on purpose.
import glob
import math
import os
import re
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                     "tfevents_subset.proto")
TYPES = {"double": descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE,
         "float": descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT,
         "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
         "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING}


def parse_proto(text):
    """The message classes of a proto3 file made of (nested) messages with scalar or
    message fields, which is all the subset uses; protoc is not needed."""
    text = re.sub(r"//[^\n]*", "", text)
    package = re.search(r"package\s+([\w.]+);", text).group(1)
    fdp = descriptor_pb2.FileDescriptorProto(name="tfevents_subset.proto", package=package,
                                             syntax="proto3")
    tokens = re.findall(r"[\w.]+|[{}=;]", text)
    stack = []  # the DescriptorProtos of the messages being read, innermost last
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "message":
            msg = (stack[-1].nested_type if stack else fdp.message_type).add(name=tokens[i + 1])
            stack.append(msg)
            i += 3
        elif t == "}":
            stack.pop()
            i += 1
        elif stack:
            label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
            if t == "repeated":
                label = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
                i += 1
            ftype, name, number = tokens[i], tokens[i + 1], int(tokens[i + 3])
            field = stack[-1].field.add(name=name, number=number, label=label)
            if ftype in TYPES:
                field.type = TYPES[ftype]
            else:  # a message; the pool resolves the name from the field's scope, as protoc
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
                field.type_name = ftype
            i += 5
        else:
            i += 1  # syntax = "proto3"; package ...;
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    factory = message_factory.MessageFactory(pool)
    return {m.name: factory.GetPrototype(pool.FindMessageTypeByName(package + "." + m.name))
            for m in fdp.message_type}


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    data = open(path, "rb").read()
    pos = 0
    while pos < len(data):
        assert pos + 12 <= len(data), "truncated record header at %d" % pos
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert crc == masked(header), "bad length CRC at %d" % pos
        body = data[pos + 12:pos + 12 + length]
        assert len(body) == length, "truncated record at %d" % pos
        (crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert crc == masked(body), "bad data CRC at %d" % pos
        yield body
        pos += 16 + length


def check(directory):
    """Checks DIR's one event file against DIR/metrics.csv; returns the scalar events."""
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    classes = parse_proto(open(PROTO).read())
    files = glob.glob(os.path.join(directory, "events.out.tfevents.*"))
    assert len(files) == 1, files
    events = []
    for body in records(files[0]):
        event = classes["Event"]()
        event.ParseFromString(body)
        assert event.SerializeToString() == body, "not canonical: %r" % body
        events.append(event)
    first = events[0]
    assert first.file_version == "brain.Event:2" and not first.HasField("summary"), first
    expected = []
    with open(os.path.join(directory, "metrics.csv")) as f:
        assert f.readline() == "step,tag,value\n"
        for line in f:
            step, tag, value = line.rstrip("\n").split(",")
            expected.append((int(step), tag, struct.unpack("<f", struct.pack("<f", float(value)))[0]))
    assert len(events) == 1 + len(expected), (len(events), len(expected))
    for event, (step, tag, value) in zip(events[1:], expected):
        assert abs(event.wall_time - first.wall_time) < 60, event
        assert event.step == step, (event, step)
        assert len(event.summary.value) == 1, event
        v = event.summary.value[0]
        assert v.tag == tag, (v.tag, tag)
        assert v.simple_value == value or (math.isnan(v.simple_value) and math.isnan(value)), (v, value)
    return events[1:]


def main(directory):
    events = check(directory)
    steps = {e.step for e in events}
    assert {1 << 40, -3, 128}.issubset(steps), steps  # multi-byte and ten-byte varints
    print("tfevents_check: %d records, CRCs, tags, steps and values match" % (1 + len(events)))


if __name__ == "__main__":
    main(sys.argv[1])
