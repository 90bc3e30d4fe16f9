#!/usr/bin/env python3
"""Generates the malformed-file corpus (Tests/QuantFormatsTests/Fixtures/malformed/): small GGUF and
safetensors files, each broken in one specific way, and expected.json mapping every file to the
FormatError reason QuantKit must report. Regenerate with: python3 scripts/make-malformed-corpus.py"""
import json, os, struct

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "QuantFormatsTests", "Fixtures", "malformed")
cases = {}

def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)
def s(text):
    b = text.encode() if isinstance(text, str) else text
    return u64(len(b)) + b

def gguf(kvs=b"", kv_count=0, tensors=b"", tensor_count=0, data=b"", version=3, magic=b"GGUF", align=32):
    header = magic + u32(version) + u64(tensor_count) + u64(kv_count) + kvs + tensors
    pad = (-len(header)) % align
    return header + b"\0" * pad + data

def kv(key, vtype, payload): return s(key) + u32(vtype) + payload
def tinfo(name, shape, ttype=0, offset=0):
    return s(name) + u32(len(shape)) + b"".join(u64(n) for n in shape) + u32(ttype) + u64(offset)

def add(name, content, reason):
    with open(os.path.join(OUT, name), "wb") as f: f.write(content)
    cases[name] = reason

valid_tensor = tinfo("w", [8]) 
ok = gguf(tensors=valid_tensor, tensor_count=1, data=b"\0" * 32)
# --- GGUF
add("gguf-empty.gguf", b"", "truncated")
add("gguf-bad-magic.gguf", b"GGML" + ok[4:], "badMagic")
add("gguf-version-1.gguf", gguf(version=1), "unsupportedVersion")
add("gguf-version-4.gguf", gguf(version=4), "unsupportedVersion")
add("gguf-truncated-header.gguf", ok[:13], "truncated")
add("gguf-tensor-count-2pow63.gguf", gguf(tensor_count=1 << 63), "countTooLarge")
add("gguf-kv-count-huge.gguf", gguf(kv_count=(1 << 64) - 1), "countTooLarge")
add("gguf-array-past-eof.gguf", gguf(kvs=kv("a", 9, u32(4) + u64(10**9) + u32(0)), kv_count=1), "countTooLarge")
add("gguf-string-length-overflow.gguf", gguf(kvs=kv("s", 8, u64((1 << 64) - 1) + b"abc"), kv_count=1), "stringTooLong")
add("gguf-string-past-eof.gguf", gguf(kvs=kv("s", 8, u64(1000) + b"abc"), kv_count=1), "truncated")
add("gguf-key-length-overflow.gguf", gguf(kvs=u64(1 << 62) + b"k", kv_count=1), "stringTooLong")
nested = b"".join(u32(9) + u64(1) for _ in range(10000)) + u32(4) + u64(0)
add("gguf-nested-arrays-10000.gguf", gguf(kvs=kv("deep", 9, nested), kv_count=1), "arrayNestingTooDeep")
add("gguf-unknown-value-type.gguf", gguf(kvs=kv("k", 13, u32(0)), kv_count=1), "unknownValueType")
add("gguf-unknown-array-element-type.gguf", gguf(kvs=kv("k", 9, u32(42) + u64(0)), kv_count=1), "unknownValueType")
add("gguf-duplicate-key.gguf", gguf(kvs=kv("k", 4, u32(1)) + kv("k", 4, u32(2)), kv_count=2), "duplicateKey")
add("gguf-empty-key.gguf", gguf(kvs=kv("", 4, u32(1)), kv_count=1), "emptyKey")
add("gguf-invalid-utf8-key.gguf", gguf(kvs=s(b"\xc3\x28") + u32(4) + u32(1), kv_count=1), "invalidUTF8")
add("gguf-invalid-utf8-value.gguf", gguf(kvs=kv("k", 8, s(b"\xff\xfe")), kv_count=1), "invalidUTF8")
add("gguf-bool-2.gguf", gguf(kvs=kv("b", 7, b"\x02"), kv_count=1), "wrongValueType")
add("gguf-alignment-0.gguf", gguf(kvs=kv("general.alignment", 4, u32(0)), kv_count=1), "badAlignment")
add("gguf-alignment-3.gguf", gguf(kvs=kv("general.alignment", 4, u32(3)), kv_count=1), "badAlignment")
add("gguf-alignment-wrong-type.gguf", gguf(kvs=kv("general.alignment", 10, u64(32)), kv_count=1), "wrongValueType")
add("gguf-n-dims-5.gguf", gguf(tensors=tinfo("w", [1, 1, 1, 1, 8]), tensor_count=1, data=b"\0" * 32), "tooManyDimensions")
add("gguf-name-64-bytes.gguf", gguf(tensors=tinfo("n" * 64, [8]), tensor_count=1, data=b"\0" * 32), "tensorNameTooLong")
add("gguf-unknown-tensor-type.gguf", gguf(tensors=tinfo("w", [8], ttype=77), tensor_count=1, data=b"\0" * 32), "unknownTensorType")
add("gguf-retired-tensor-type.gguf", gguf(tensors=tinfo("w", [32], ttype=4), tensor_count=1, data=b"\0" * 32), "retiredTensorType")
add("gguf-ne0-not-block-multiple.gguf", gguf(tensors=tinfo("w", [100], ttype=2), tensor_count=1, data=b"\0" * 96), "rowNotBlockAligned")
add("gguf-negative-dimension.gguf", gguf(tensors=tinfo("w", [(1 << 64) - 8]), tensor_count=1, data=b"\0" * 32), "badDimension")
add("gguf-element-count-overflow.gguf", gguf(tensors=tinfo("w", [1 << 40, 1 << 40]), tensor_count=1, data=b"\0" * 32), "arithmeticOverflow")
add("gguf-duplicate-tensor.gguf", gguf(tensors=tinfo("w", [8]) + tinfo("w", [8], offset=32), tensor_count=2, data=b"\0" * 64), "duplicateTensor")
add("gguf-unaligned-offset.gguf", gguf(tensors=tinfo("w", [8], offset=4), tensor_count=1, data=b"\0" * 64), "misalignedTensorOffset")
add("gguf-overlapping-offsets.gguf", gguf(tensors=tinfo("a", [16]) + tinfo("b", [16], offset=32), tensor_count=2, data=b"\0" * 128), "unexpectedTensorOffset")
add("gguf-gap-between-tensors.gguf", gguf(tensors=tinfo("a", [8]) + tinfo("b", [8], offset=64), tensor_count=2, data=b"\0" * 128), "unexpectedTensorOffset")
add("gguf-offset-out-of-range.gguf", gguf(tensors=tinfo("w", [1 << 20]), tensor_count=1, data=b"\0" * 32), "tensorOutOfBounds")
add("gguf-missing-final-padding.gguf", gguf(tensors=tinfo("w", [4]), tensor_count=1, data=b"\0" * 16), "truncated")
add("gguf-truncated-tensor-info.gguf", gguf(tensors=s("a.long.tensor.name") + u32(2) + u64(8), tensor_count=1)[:-0 or None], "truncated")

# --- safetensors
def st(header, data=b"", length=None):
    h = header.encode() if isinstance(header, str) else header
    return u64(len(h) if length is None else length) + h + data
add("st-empty.safetensors", b"", "truncated")
add("st-short-length.safetensors", b"\x10\x00\x00", "truncated")
add("st-header-too-large.safetensors", u64(200_000_000) + b"{}", "headerTooLarge")
add("st-header-longer-than-file.safetensors", st("{}", length=1000), "truncated")
add("st-header-not-object.safetensors", st("[1,2]"), "headerNotAnObject")
add("st-malformed-json.safetensors", st('{"a": 1,}'), "malformedJSON")
add("st-non-utf8-json.safetensors", st(b'{"\xff\xfe": {}}'), "malformedJSON")
add("st-duplicate-tensor.safetensors", st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"\0\0"), "malformedJSON")
add("st-nested-10000.safetensors", st('{"a":' + "[" * 10000 + "]" * 10000 + "}"), "malformedJSON")
add("st-unknown-dtype.safetensors", st('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', b"\0"), "unknownDType")
add("st-shape-bytes-mismatch.safetensors", st('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 4), "byteCountMismatch")
add("st-offsets-gap.safetensors", st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', b"\0" * 3), "offsetsNotContiguous")
add("st-offsets-overlap.safetensors", st('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', b"\0" * 3), "offsetsNotContiguous")
add("st-trailing-bytes.safetensors", st('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', b"\0" * 6), "dataNotCovered")
add("st-data-short.safetensors", st('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', b"\0" * 2), "dataNotCovered")
add("st-offsets-reversed.safetensors", st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,0]}}', b"\0"), "badTensorEntry")
add("st-negative-shape.safetensors", st('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', b"\0"), "badTensorEntry")
add("st-missing-dtype.safetensors", st('{"a":{"shape":[1],"data_offsets":[0,1]}}', b"\0"), "badTensorEntry")
add("st-shape-overflow.safetensors", st('{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,1]}}', b"\0"), "arithmeticOverflow")
add("st-metadata-not-strings.safetensors", st('{"__metadata__":{"k":1}}'), "badMetadata")

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(cases, f, indent=1, sort_keys=True)
print(f"{len(cases)} malformed files in {os.path.normpath(OUT)}")
