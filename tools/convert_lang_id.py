#!/usr/bin/env python3
"""Convert the CS188 language-identification word list (lang_id.npz) into plain text.

Ember keeps its datasets in plain, documented formats that a student can open in any
editor and that the C++ reader (course/src/lang_id_file.cpp) parses without NumPy. This
script produces datasets/lang_id/ from the original NumPy archive used by UC Berkeley
CS188 "Introduction to Artificial Intelligence" (ai.berkeley.edu), credited in
datasets/README.md.

How to rerun it (from the repository root; Python 3.8 or newer, standard library only):

    python3 tools/convert_lang_id.py /path/to/lang_id.npz
        writes datasets/lang_id/{alphabet.txt,languages.txt,buckets.tsv,train.tsv,
        dev.tsv,test.tsv}, replacing what is there.

    python3 tools/convert_lang_id.py /path/to/lang_id.npz --check
        converts into memory and compares with the files in datasets/lang_id/
        byte for byte; exits 1 and names the first difference if they differ.

    --out DIR writes (or checks) DIR instead of datasets/lang_id/.

In this project's workspace the archive is /work/shared/reference-data/cs188/lang_id.npz.

What it reads. An .npz file is a zip archive whose members are .npy files. A .npy file
is the magic b"\\x93NUMPY", a major and a minor version byte, a little-endian header
length (2 bytes in version 1, 4 bytes in versions 2 and 3), a header that is a Python
dict literal such as {'descr': '<i8', 'fortran_order': False, 'shape': (500, 10), },
then the raw array data in C order. This script parses that header with
ast.literal_eval and decodes two dtypes: '<i8' (little-endian int64) and '<Un'
(n UTF-32-LE code points per element, NUL-padded on the right).

Expected members: chars (47,) <U1; language_codes (5,) <U2; language_names (5,) <U7;
{train,dev,test}_x (N, 10) <i8: character indices, right-padded with -1;
{train,dev,test}_y (N,) <i8: language labels; {train,dev,test}_buckets (B, 2) <i8:
[start, end) row ranges of equal word length, sorted by length.

What it verifies before writing anything (any failure stops with a message, exit 1):
  * exactly the expected members, each a well-formed .npy with the expected dtype and
    rank, not Fortran-ordered, and exactly as many data bytes as the shape needs;
  * the alphabet: 47 distinct single characters, printable, in Unicode NFC form;
  * language codes and names: distinct, non-empty, no whitespace in codes, no tabs or
    newlines in names; as many codes as names;
  * every character index in 0..46 or the padding value -1; padding only at the end
    of a row; every word at least one character long;
  * every label in range; x, y agree on the number of rows;
  * the buckets tile [0, N) in order without gaps, each bucket holds words of a single
    length, and lengths strictly increase from bucket to bucket (so the buckets are
    exactly the runs of equal word length, which the C++ reader recomputes);
  * after converting, the text it is about to write is parsed back and must reproduce
    every array exactly.

What it writes (UTF-8, "\\n" line endings, no header lines; described in
datasets/README.md):
  alphabet.txt   one character per line, line k+1 holds character index k
  languages.txt  "index<TAB>code<TAB>name" per language, index = label
  train.tsv, dev.tsv, test.tsv
                 "word<TAB>language_code" per word, in the original row order
  buckets.tsv    "split<TAB>start<TAB>end<TAB>word_length" per original bucket
"""

import argparse
import ast
import io
import os
import struct
import sys
import unicodedata
import zipfile

SPLITS = ("train", "dev", "test")
EXPECTED_ALPHABET_SIZE = 47
EXPECTED_LANGUAGES = 5
MAX_WORD_LENGTH = 10
PAD = -1


class ConversionError(Exception):
    pass


def fail(message):
    raise ConversionError(message)


def parse_npy(name, data):
    """Returns (descr, shape, payload bytes) of one .npy member, checking its framing."""
    magic = b"\x93NUMPY"
    if len(data) < len(magic) + 4 or not data.startswith(magic):
        fail(f"{name}: not a .npy file (missing the \\x93NUMPY magic)")
    major, minor = data[6], data[7]
    if major == 1:
        (header_len,) = struct.unpack_from("<H", data, 8)
        header_start = 10
    elif major in (2, 3):
        if len(data) < 12:
            fail(f"{name}: truncated .npy header")
        (header_len,) = struct.unpack_from("<I", data, 8)
        header_start = 12
    else:
        fail(f"{name}: unsupported .npy version {major}.{minor}")
    header_end = header_start + header_len
    if header_end > len(data):
        fail(f"{name}: .npy header runs past the end of the member")
    encoding = "utf-8" if major == 3 else "latin-1"
    header_text = data[header_start:header_end].decode(encoding)
    try:
        header = ast.literal_eval(header_text)
    except (ValueError, SyntaxError) as e:
        fail(f"{name}: cannot parse .npy header {header_text!r}: {e}")
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        fail(f"{name}: unexpected .npy header {header!r}")
    if header["fortran_order"] is not False:
        fail(f"{name}: Fortran-ordered arrays are not expected")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        fail(f"{name}: bad shape {shape!r}")
    descr = header["descr"]
    if not isinstance(descr, str):
        fail(f"{name}: bad dtype {descr!r}")
    return descr, shape, data[header_end:]


def element_count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def decode_int64(name, descr, shape, payload, rank):
    if descr != "<i8":
        fail(f"{name}: dtype {descr!r}, expected '<i8' (little-endian int64)")
    if len(shape) != rank:
        fail(f"{name}: shape {shape}, expected {rank} dimension(s)")
    n = element_count(shape)
    if len(payload) != 8 * n:
        fail(f"{name}: {len(payload)} data bytes, shape {shape} needs {8 * n}")
    flat = list(struct.unpack(f"<{n}q", payload))
    if rank == 1:
        return flat
    cols = shape[1]
    return [flat[r * cols:(r + 1) * cols] for r in range(shape[0])]


def decode_unicode(name, descr, shape, payload):
    if not (descr.startswith("<U") and descr[2:].isdigit() and int(descr[2:]) > 0):
        fail(f"{name}: dtype {descr!r}, expected '<Un' (little-endian UTF-32 strings)")
    if len(shape) != 1:
        fail(f"{name}: shape {shape}, expected 1 dimension")
    width = int(descr[2:])
    n = shape[0]
    if len(payload) != 4 * width * n:
        fail(f"{name}: {len(payload)} data bytes, shape {shape} of {descr} needs {4 * width * n}")
    out = []
    for i in range(n):
        raw = payload[4 * width * i:4 * width * (i + 1)]
        try:
            text = raw.decode("utf-32-le")
        except UnicodeDecodeError as e:
            fail(f"{name}[{i}]: invalid UTF-32: {e}")
        stripped = text.rstrip("\0")
        if "\0" in stripped:
            fail(f"{name}[{i}]: NUL inside the string {stripped!r}")
        out.append(stripped)
    return out


def read_npz(path):
    expected = {"chars", "language_codes", "language_names"}
    for split in SPLITS:
        expected |= {f"{split}_x", f"{split}_y", f"{split}_buckets"}
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        fail(f"{path}: file not found")
    except zipfile.BadZipFile as e:
        fail(f"{path}: not a zip/.npz archive: {e}")
    with archive:
        members = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                fail(f"{path}: unexpected member {info.filename!r}")
            key = info.filename[:-4]
            if key in members:
                fail(f"{path}: duplicate member {info.filename!r}")
            try:
                members[key] = archive.read(info)  # checks the zip CRC-32
            except zipfile.BadZipFile as e:
                fail(f"{path}: member {info.filename!r} is damaged: {e}")
    if set(members) != expected:
        missing = sorted(expected - set(members))
        extra = sorted(set(members) - expected)
        fail(f"{path}: members differ from the expected set (missing {missing}, unexpected {extra})")
    return {key: parse_npy(f"{key}.npy", data) for key, data in members.items()}


def word_length(name, row_index, row):
    """Number of characters before the -1 padding; checks the padding is only at the end."""
    length = len(row)
    for j, v in enumerate(row):
        if v == PAD:
            length = j
            break
    if any(v != PAD for v in row[length:]):
        fail(f"{name}: row {row_index} {row}: padding -1 followed by a character index")
    if length == 0:
        fail(f"{name}: row {row_index} is an empty word")
    return length


def load_and_verify(path):
    arrays = read_npz(path)

    chars = decode_unicode("chars", *arrays["chars"])
    codes = decode_unicode("language_codes", *arrays["language_codes"])
    names = decode_unicode("language_names", *arrays["language_names"])

    if len(chars) != EXPECTED_ALPHABET_SIZE:
        fail(f"chars: {len(chars)} characters, expected {EXPECTED_ALPHABET_SIZE}")
    for i, c in enumerate(chars):
        if len(c) != 1:
            fail(f"chars[{i}] = {c!r} is not exactly one character")
        if not c.isprintable() or c.isspace():
            fail(f"chars[{i}] = {c!r} is not a printable, non-space character")
        if not unicodedata.is_normalized("NFC", c):
            fail(f"chars[{i}] = {c!r} is not in Unicode NFC form")
    if len(set(chars)) != len(chars):
        fail("chars: the alphabet has a repeated character")

    if len(codes) != EXPECTED_LANGUAGES or len(names) != EXPECTED_LANGUAGES:
        fail(f"{len(codes)} language codes and {len(names)} names, expected {EXPECTED_LANGUAGES} each")
    for i, c in enumerate(codes):
        if not c or any(ch.isspace() or not ch.isprintable() for ch in c):
            fail(f"language_codes[{i}] = {c!r} is empty or has whitespace")
    for i, n in enumerate(names):
        if not n or "\t" in n or "\n" in n or "\r" in n or not n.isprintable():
            fail(f"language_names[{i}] = {n!r} is empty or not a printable single line")
    if len(set(codes)) != len(codes):
        fail("language_codes: a code is repeated")

    splits = {}
    for split in SPLITS:
        x = decode_int64(f"{split}_x", *arrays[f"{split}_x"], rank=2)
        y = decode_int64(f"{split}_y", *arrays[f"{split}_y"], rank=1)
        b = decode_int64(f"{split}_buckets", *arrays[f"{split}_buckets"], rank=2)
        x_shape = arrays[f"{split}_x"][1]
        if x_shape[1] != MAX_WORD_LENGTH:
            fail(f"{split}_x: shape {x_shape}, expected {MAX_WORD_LENGTH} columns")
        if len(y) != len(x):
            fail(f"{split}_y has {len(y)} rows but {split}_x has {len(x)}")
        if arrays[f"{split}_buckets"][1][1:] != (2,):
            fail(f"{split}_buckets: shape {arrays[f'{split}_buckets'][1]}, expected (B, 2)")

        lengths = []
        for r, row in enumerate(x):
            for j, v in enumerate(row):
                if not (v == PAD or 0 <= v < len(chars)):
                    fail(f"{split}_x[{r}][{j}] = {v} is neither a character index 0..{len(chars) - 1} nor -1")
            lengths.append(word_length(f"{split}_x", r, row))
        for r, label in enumerate(y):
            if not 0 <= label < len(codes):
                fail(f"{split}_y[{r}] = {label} is not a language label 0..{len(codes) - 1}")

        expected_start = 0
        previous_length = 0
        bucket_lengths = []
        for k, (start, end) in enumerate(b):
            if start != expected_start or end <= start:
                fail(f"{split}_buckets[{k}] = [{start}, {end}) does not continue at row {expected_start}")
            run = set(lengths[start:end]) if end <= len(x) else None
            if run is None:
                fail(f"{split}_buckets[{k}] = [{start}, {end}) runs past {len(x)} rows")
            if len(run) != 1:
                fail(f"{split}_buckets[{k}] = [{start}, {end}) mixes word lengths {sorted(run)}")
            (length,) = run
            if length <= previous_length:
                fail(f"{split}_buckets[{k}]: word length {length} does not increase on {previous_length}")
            previous_length = length
            bucket_lengths.append(length)
            expected_start = end
        if expected_start != len(x):
            fail(f"{split}_buckets end at row {expected_start}, but there are {len(x)} rows")

        words = ["".join(chars[v] for v in row[:n]) for row, n in zip(x, lengths)]
        splits[split] = {
            "x": x,
            "y": y,
            "buckets": [(s, e, n) for (s, e), n in zip(b, bucket_lengths)],
            "words": words,
        }
    return chars, codes, names, splits


def render(chars, codes, names, splits):
    """Returns {file name: text} for everything written to datasets/lang_id/."""
    files = {
        "alphabet.txt": "".join(f"{c}\n" for c in chars),
        "languages.txt": "".join(f"{i}\t{c}\t{n}\n" for i, (c, n) in enumerate(zip(codes, names))),
        "buckets.tsv": "".join(
            f"{split}\t{s}\t{e}\t{n}\n" for split in SPLITS for (s, e, n) in splits[split]["buckets"]
        ),
    }
    for split in SPLITS:
        files[f"{split}.tsv"] = "".join(
            f"{w}\t{codes[label]}\n" for w, label in zip(splits[split]["words"], splits[split]["y"])
        )
    return files


def verify_round_trip(files, chars, codes, names, splits):
    """Parses the rendered text back and checks it reproduces every array exactly."""
    if files["alphabet.txt"].split("\n")[:-1] != chars:
        fail("round trip: alphabet.txt does not reproduce chars")
    langs = [line.split("\t") for line in files["languages.txt"].split("\n")[:-1]]
    if langs != [[str(i), c, n] for i, (c, n) in enumerate(zip(codes, names))]:
        fail("round trip: languages.txt does not reproduce the languages")
    index = {c: i for i, c in enumerate(chars)}
    label_of = {c: i for i, c in enumerate(codes)}
    for split in SPLITS:
        lines = files[f"{split}.tsv"].split("\n")
        if lines[-1] != "":
            fail(f"round trip: {split}.tsv does not end with a newline")
        x, y = [], []
        for line in lines[:-1]:
            word, code = line.split("\t")
            row = [index[c] for c in word]
            x.append(row + [PAD] * (MAX_WORD_LENGTH - len(row)))
            y.append(label_of[code])
        if x != splits[split]["x"] or y != splits[split]["y"]:
            fail(f"round trip: {split}.tsv does not reproduce {split}_x / {split}_y")
    buckets = [line.split("\t") for line in files["buckets.tsv"].split("\n")[:-1]]
    original = [[split, str(s), str(e), str(n)] for split in SPLITS for (s, e, n) in splits[split]["buckets"]]
    if buckets != original:
        fail("round trip: buckets.tsv does not reproduce the buckets")


def summary(codes, splits):
    lines = []
    for split in SPLITS:
        y = splits[split]["y"]
        lengths = [n for (_, _, n) in splits[split]["buckets"]]
        per_language = ", ".join(f"{c} {y.count(i)}" for i, c in enumerate(codes))
        lines.append(
            f"  {split}: {len(y)} words, {len(lengths)} buckets, lengths {lengths[0]}-{lengths[-1]}; {per_language}"
        )
    return "\n".join(lines)


def main(argv):
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("npz", help="path to the original lang_id.npz")
    parser.add_argument("--out", default=os.path.join(repo_root, "datasets", "lang_id"),
                        help="output folder (default: datasets/lang_id in this repository)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args(argv)

    try:
        chars, codes, names, splits = load_and_verify(args.npz)
        files = render(chars, codes, names, splits)
        verify_round_trip(files, chars, codes, names, splits)
    except ConversionError as e:
        print(f"convert_lang_id: {e}", file=sys.stderr)
        return 1

    if args.check:
        for name, text in files.items():
            target = os.path.join(args.out, name)
            try:
                with open(target, "rb") as f:
                    on_disk = f.read()
            except FileNotFoundError:
                print(f"convert_lang_id: {target}: missing", file=sys.stderr)
                return 1
            if on_disk != text.encode("utf-8"):
                print(f"convert_lang_id: {target}: differs from the conversion of {args.npz}", file=sys.stderr)
                return 1
        print(f"convert_lang_id: {args.out} matches {args.npz}")
        print(summary(codes, splits))
        return 0

    os.makedirs(args.out, exist_ok=True)
    for name, text in files.items():
        with io.open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(f"convert_lang_id: wrote {', '.join(files)} to {args.out}")
    print(summary(codes, splits))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
