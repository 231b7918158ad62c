#!/usr/bin/env python3
"""Checks raw records against Liaison's JSON Schemas the way Liaison itself reads them.

Usage:
    python3 scripts/check-records.py --schemas schemas MANIFEST.json

MANIFEST.json is a JSON array of {"name": str, "file": path, "schema": key}. `file` holds the
record's raw bytes; a relative path is looked up next to the manifest first, then in the
current directory. `schema` is one of: cloudevent, liaison.events.v1, liaison.dlq.v1,
liaison.enriched.v1, liaison.actions.v1, liaison.deliveries.v1, events/<type> (a record
type's `data` alone), or a path below the schemas directory.

Prints one JSON object to stdout, by record name:
    {"valid": bool, "category": null | "too_large" | "empty_record" | "invalid_utf8" |
     "invalid_json" | "too_deep" | "duplicate_key" | "schema", "message": str}

The bytes are read as Liaison's Swift reader reads them (Sources/LiaisonSchema/JSON/
JSONParser.swift): an empty value, more than 1 MiB, invalid UTF-8, a byte-order mark, NaN or
Infinity, a lone surrogate escape, nesting deeper than 64 levels and a member name repeated in
one object (compared code point by code point, as RFC 8259 suggests) are all refused.
When a record breaks several of these rules, the category is the one Swift reports: the first
problem in document order. Numbers are read exactly (as decimal.Decimal), so `2.0` is not an
integer and `multipleOf` is exact. Formats (date-time) are asserted.

Exits 2 when a schema is not a valid draft 2020-12 schema, the manifest is unreadable or names
a schema that does not exist.

Needs jsonschema (4.26) and rfc3339-validator (for the date-time format).
"""

import argparse
import decimal
import json
import pathlib
import re
import sys
from decimal import Decimal

try:
    import jsonschema
    import jsonschema._keywords
    import referencing
    import referencing.jsonschema
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError, ValidationError, best_match
except ImportError as error:  # pragma: no cover - environment problem
    sys.exit(f"check-records: {error}; install jsonschema and rfc3339-validator")

try:
    import rfc3339_validator  # noqa: F401  (makes jsonschema check the date-time format)
except ImportError:  # pragma: no cover - environment problem
    sys.exit("check-records: rfc3339-validator is not installed; without it date-time is not checked")

MAX_RECORD_BYTES = 1_048_576
MAX_DEPTH = 64
# Python refuses to turn longer digit strings into int; such literals become Decimals (which
# are numbers but not integers: far outside every integer range Liaison accepts anyway).
MAX_INT_DIGITS = 4000
# Schema messages quote the offending value; keep them readable.
MAX_MESSAGE_CHARACTERS = 1000

ASCII_DIGITS = frozenset("0123456789")

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)  # exact arithmetic on long integers in multipleOf


# ---------------------------------------------------------------------------------------------
# Reading bytes as JSON


class RecordError(Exception):
    def __init__(self, category, message):
        super().__init__(message)
        self.category = category
        self.message = message


class _Rejected(Exception):
    """Raised from json.loads hooks; the strict scanner then decides the category."""


def _parse_float(text):
    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        # An exponent beyond what Decimal can hold (|exponent| > 10^18). Keep what matters to
        # validation: zero stays zero, anything else is enormous or tiny.
        mantissa, _, exponent = text.lower().partition("e")
        negative = mantissa.startswith("-")
        if not mantissa.strip("-.0"):
            return Decimal("-0") if negative else Decimal("0")
        magnitude = "1E+999999999999999999" if not exponent.startswith("-") else "1E-999999999999999999"
        return Decimal(("-" if negative else "") + magnitude)


def _parse_int(text):
    return int(text) if len(text) <= MAX_INT_DIGITS else Decimal(text)


def _parse_constant(name):
    raise _Rejected(f"{name} is not a JSON number")


def _object_pairs(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Rejected("duplicate member name")
    return obj


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _needs_strict_look(text, value):
    """After json.loads succeeded: is there something Swift refuses that Python took?"""
    may_have_surrogate = _SURROGATE_ESCAPE.search(text) is not None
    may_be_deep = text.count("[") + text.count("{") > MAX_DEPTH
    if not (may_have_surrogate or may_be_deep):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                return True
            for key, member in item.items():
                if may_have_surrogate and _SURROGATE.search(key):
                    return True
                stack.append((member, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                return True
            stack.extend((member, depth + 1) for member in item)
        elif isinstance(item, str):
            if may_have_surrogate and _SURROGATE.search(item):
                return True
    return False


class _ScanError(Exception):
    def __init__(self, category, message, offset):
        super().__init__(message)
        self.category = category
        self.message = message
        self.offset = offset


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f]*')
_DIGITS = re.compile(r"[0-9]*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class _StrictScanner:
    """A transcription of Swift's JSONParser (Reader): reports the first problem in document
    order. Used only when json.loads refused a record or Swift may refuse what it took."""

    def __init__(self, text):
        self.text = text
        self.end = len(text)
        self.index = 0

    def fail(self, message, category="invalid_json"):
        raise _ScanError(category, message, self.index)

    def truncated(self):
        self.fail("the JSON ends too early (truncated?)")

    def skip_whitespace(self):
        self.index = _WHITESPACE.match(self.text, self.index).end()

    def scan(self):
        self.skip_whitespace()
        self.value(1)
        self.skip_whitespace()
        if self.index < self.end:
            self.fail("unexpected content after the JSON value")

    def value(self, depth):
        if self.index >= self.end:
            self.truncated()
        char = self.text[self.index]
        if char == "{":
            self.object(depth)
        elif char == "[":
            self.array(depth)
        elif char == '"':
            self.string()
        elif char == "t":
            self.literal("true")
        elif char == "f":
            self.literal("false")
        elif char == "n":
            self.literal("null")
        elif char == "-" or char in ASCII_DIGITS:
            self.number()
        elif char in "NI":
            self.fail("NaN and Infinity are not JSON numbers")
        else:
            self.fail(f"unexpected character {char!r} where a JSON value should start")

    def literal(self, word):
        if self.index + len(word) > self.end:
            self.truncated()
        if self.text[self.index:self.index + len(word)] != word:
            self.fail(f"invalid literal; expected {word}")
        self.index += len(word)

    def object(self, depth):
        if depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} levels", "too_deep")
        self.index += 1
        seen = set()
        self.skip_whitespace()
        if self.index >= self.end:
            self.truncated()
        if self.text[self.index] == "}":
            self.index += 1
            return
        while True:
            self.skip_whitespace()
            if self.index >= self.end:
                self.truncated()
            if self.text[self.index] != '"':
                self.fail("expected a quoted member name")
            key_offset = self.index
            key = self.string()
            if key in seen:
                raise _ScanError("duplicate_key", f"the member {key!r} appears twice in one object", key_offset)
            seen.add(key)
            self.skip_whitespace()
            if self.index >= self.end:
                self.truncated()
            if self.text[self.index] != ":":
                self.fail(f"expected ':' after the member name {key!r}")
            self.index += 1
            self.skip_whitespace()
            self.value(depth + 1)
            self.skip_whitespace()
            if self.index >= self.end:
                self.truncated()
            char = self.text[self.index]
            self.index += 1
            if char == "}":
                return
            if char != ",":
                self.index -= 1
                self.fail(f"expected ',' or '}}' after the member {key!r}")

    def array(self, depth):
        if depth > MAX_DEPTH:
            self.fail(f"nesting deeper than {MAX_DEPTH} levels", "too_deep")
        self.index += 1
        self.skip_whitespace()
        if self.index >= self.end:
            self.truncated()
        if self.text[self.index] == "]":
            self.index += 1
            return
        while True:
            self.skip_whitespace()
            self.value(depth + 1)
            self.skip_whitespace()
            if self.index >= self.end:
                self.truncated()
            char = self.text[self.index]
            self.index += 1
            if char == "]":
                return
            if char != ",":
                self.index -= 1
                self.fail("expected ',' or ']' in an array")

    def number(self):
        text, end = self.text, self.end
        if text[self.index] == "-":
            self.index += 1
            if self.index >= end:
                self.truncated()
            if text[self.index] == "I":
                self.fail("NaN and Infinity are not JSON numbers")
        if self.index >= end or text[self.index] not in ASCII_DIGITS:
            self.fail("a number needs a digit here")
        if text[self.index] == "0":
            self.index += 1
            if self.index < end and text[self.index] in ASCII_DIGITS:
                self.fail("numbers must not have leading zeros")
        else:
            self.index = _DIGITS.match(text, self.index).end()
        if self.index < end and text[self.index] == ".":
            self.index += 1
            if self.index >= end or text[self.index] not in ASCII_DIGITS:
                self.fail("a digit must follow the decimal point")
            self.index = _DIGITS.match(text, self.index).end()
        if self.index < end and text[self.index] in "eE":
            self.index += 1
            if self.index < end and text[self.index] in "+-":
                self.index += 1
            if self.index >= end or text[self.index] not in ASCII_DIGITS:
                self.fail("a digit must follow the exponent")
            self.index = _DIGITS.match(text, self.index).end()

    def string(self):
        self.index += 1
        parts = []
        while True:
            match = _PLAIN_TEXT.match(self.text, self.index)
            parts.append(match.group())
            self.index = match.end()
            if self.index >= self.end:
                self.truncated()
            char = self.text[self.index]
            if char == '"':
                self.index += 1
                return "".join(parts)
            if char == "\\":
                parts.append(self.escape())
            else:
                self.fail(f"a control character (U+{ord(char):04X}) must be escaped in a string")

    def escape(self):
        self.index += 1
        if self.index >= self.end:
            self.truncated()
        char = self.text[self.index]
        self.index += 1
        if char in _ESCAPES:
            return _ESCAPES[char]
        if char != "u":
            self.index -= 1
            self.fail(f"invalid escape \\{char} in a string")
        scalar = self.hex4()
        if 0xD800 <= scalar <= 0xDBFF:
            if not (self.index + 1 < self.end and self.text[self.index] == "\\" and self.text[self.index + 1] == "u"):
                self.fail("a high surrogate escape must be followed by a low surrogate escape")
            self.index += 2
            low = self.hex4()
            if not 0xDC00 <= low <= 0xDFFF:
                self.fail("a high surrogate escape must be followed by a low surrogate escape")
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        elif 0xDC00 <= scalar <= 0xDFFF:
            self.fail("a lone low surrogate escape is not a character")
        return chr(scalar)

    def hex4(self):
        if self.index + 4 > self.end:
            self.truncated()
        digits = self.text[self.index:self.index + 4]
        if not all(char in "0123456789abcdefABCDEF" for char in digits):
            self.fail("\\u must be followed by four hex digits")
        self.index += 4
        return int(digits, 16)


def read_json(data):
    """The record's JSON value, or RecordError with the category Liaison would give."""
    if len(data) == 0:
        raise RecordError("empty_record", "the record is empty")
    if len(data) > MAX_RECORD_BYTES:
        raise RecordError("too_large", f"the record has {len(data)} bytes; at most {MAX_RECORD_BYTES} are accepted")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordError("invalid_utf8", f"the bytes are not valid UTF-8 (at byte {error.start})") from None
    if text.startswith("\ufeff"):
        raise RecordError("invalid_json", "a byte-order mark is not allowed before JSON (at byte 0)")
    fast_error = None
    try:
        value = json.loads(
            text, object_pairs_hook=_object_pairs, parse_constant=_parse_constant,
            parse_float=_parse_float, parse_int=_parse_int)
        if not _needs_strict_look(text, value):
            return value
    except (ValueError, _Rejected, RecursionError) as error:
        fast_error = error
    try:
        _StrictScanner(text).scan()
    except _ScanError as error:
        offset = len(text[:error.offset].encode("utf-8", "surrogatepass"))
        raise RecordError(error.category, f"{error.message} (at byte {offset})") from None
    except RecursionError:  # cannot happen: the scanner stops at depth 65
        raise RecordError("too_deep", f"nesting deeper than {MAX_DEPTH} levels") from None
    # Swift's rules accept the text but Python's reader did not: a bug in this script.
    print(f"check-records: warning: Python could not read JSON the strict scanner accepts: {fast_error!r}",
          file=sys.stderr)
    raise RecordError("invalid_json", f"checker disagreement: {fast_error}")


# ---------------------------------------------------------------------------------------------
# Schemas


def _number_parts(number):
    """(coefficient digits without trailing zeros, exponent) of an int or Decimal, or None for 0."""
    if isinstance(number, Decimal):
        sign, digits, exponent = number.as_tuple()
        digits = "".join(map(str, digits)).lstrip("0")
    else:
        digits, exponent = str(abs(int(number))).lstrip("0"), 0
    if not digits:
        return None
    stripped = digits.rstrip("0")
    return stripped, exponent + (len(digits) - len(stripped))


def _exact_multiple_of(validator, divisor, instance, schema):
    """multipleOf without rounding and without overflow, for ints and Decimals of any size."""
    if not validator.is_type(instance, "number"):
        return
    if isinstance(instance, float) or isinstance(divisor, float):
        yield from jsonschema._keywords.multipleOf(validator, divisor, instance, schema)
        return
    value = _number_parts(instance)
    if value is None:
        return
    value_digits, value_exponent = value
    divisor_digits, divisor_exponent = _number_parts(divisor)
    # instance / divisor = (a / b) * 10^(value_exponent - divisor_exponent), with neither a nor b
    # divisible by 10; it is whole only if the power is not negative and b divides a * 10^k.
    shift = value_exponent - divisor_exponent
    if shift >= 0:
        if divisor_digits == "1":
            return
        b = int(divisor_digits)
        a = int(value_digits) * 10 ** min(shift, b.bit_length())
        if a % b == 0:
            return
    yield ValidationError(f"{instance} is not a multiple of {divisor}")


LiaisonValidator = jsonschema.validators.extend(Draft202012Validator, {"multipleOf": _exact_multiple_of})


class Schemas:
    def __init__(self, directory):
        self.directory = directory
        self.by_path = {}
        resources = []
        for path in sorted(directory.rglob("*.json")):
            relative = path.relative_to(directory).as_posix()
            try:
                contents = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
            except (OSError, ValueError) as error:
                raise SystemExit(self._fatal(f"{relative}: not readable JSON: {error}"))
            try:
                Draft202012Validator.check_schema(contents)
            except SchemaError as error:
                raise SystemExit(self._fatal(f"{relative}: not a valid draft 2020-12 schema: {error.message}"))
            if not isinstance(contents, dict) or "$id" not in contents:
                raise SystemExit(self._fatal(f"{relative}: has no $id"))
            # Without "$schema", jsonschema keeps using LiaisonValidator (and its exact multipleOf)
            # when a $ref enters another file; with it, it would switch to the stock validator.
            contents = {key: value for key, value in contents.items() if key != "$schema"}
            self.by_path[relative] = contents
            resources.append((contents["$id"], referencing.Resource.from_contents(
                contents, default_specification=referencing.jsonschema.DRAFT202012)))
        if not self.by_path:
            raise SystemExit(self._fatal(f"no schemas found in {directory}"))
        self.registry = referencing.Registry().with_resources(resources)
        self.validators = {}

    @staticmethod
    def _fatal(message):
        print(f"check-records: {message}", file=sys.stderr)
        return 2

    def validator(self, key):
        if key in self.validators:
            return self.validators[key]
        candidates = [f"{key}.v1.schema.json", f"topics/{key}.schema.json", f"{key}.schema.json", key]
        path = next((candidate for candidate in candidates if candidate in self.by_path), None)
        if path is None:
            raise SystemExit(self._fatal(f"no schema for {key!r} in {self.directory} (tried {', '.join(candidates)})"))
        validator = LiaisonValidator(
            self.by_path[path], registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
        self.validators[key] = validator
        return validator


def check(schemas, data, key):
    validator = schemas.validator(key)
    try:
        value = read_json(data)
    except RecordError as error:
        return {"valid": False, "category": error.category, "message": error.message}
    error = best_match(validator.iter_errors(value))
    if error is None:
        return {"valid": True, "category": None, "message": ""}
    where = error.json_path
    message = f"{where}: {error.message}" if where != "$" else error.message
    if len(message) > MAX_MESSAGE_CHARACTERS:
        message = message[:MAX_MESSAGE_CHARACTERS - 3] + "..."
    return {"valid": False, "category": "schema", "message": message}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check raw records against Liaison's JSON Schemas.")
    parser.add_argument("--schemas", required=True, type=pathlib.Path, help="the schemas directory")
    parser.add_argument("manifest", type=pathlib.Path, help="JSON array of {name, file, schema}")
    arguments = parser.parse_args(argv)

    schemas = Schemas(arguments.schemas)
    try:
        manifest = json.loads(arguments.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return Schemas._fatal(f"{arguments.manifest}: {error}")
    if not isinstance(manifest, list):
        return Schemas._fatal(f"{arguments.manifest}: expected a JSON array")

    results = {}
    for entry in manifest:
        if not isinstance(entry, dict) or not {"name", "file", "schema"} <= entry.keys():
            return Schemas._fatal(f"{arguments.manifest}: every entry needs name, file and schema: {entry!r}")
        file = pathlib.Path(entry["file"])
        if not file.is_absolute() and (arguments.manifest.parent / file).exists():
            file = arguments.manifest.parent / file
        try:
            data = file.read_bytes()
        except OSError as error:
            return Schemas._fatal(f"{entry['name']}: {error}")
        results[entry["name"]] = check(schemas, data, entry["schema"])
    sys.stdout.write(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
