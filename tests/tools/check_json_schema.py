#!/usr/bin/env python3
"""Checks a granule-img --output=json document against the schema tables of
docs/granule-img.md ("JSON output"), so the documentation is the schema.

    check_json_schema.py DOC TYPE [FILE]     (FILE: default stdin)

A schema table has the header `| TYPE key | type | meaning |`; each row names
a key path (`a.b`, `a.*` for data keys, `a[]` for array elements) and its
type: integer, number, string, boolean, object, array, null, or another
table's TYPE, alternatives joined by " or ". Every key a table lists for an
object must be there and no other (unless the object has a `.*` row). The
document is parsed by Python's json module from bytes, so it must also be
valid UTF-8. Exit 0: valid; 1: every violation printed with its path.
"""
import json
import re
import sys

BASE = {"integer", "number", "string", "boolean", "object", "array", "null"}


def read_tables(doc):
    tables, current = {}, None
    for line in open(doc, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^\|\s*(\w+) key\s*\|\s*type\s*\|", line)
        if m:
            current = tables.setdefault(m.group(1), {})
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= set("-: "):
            continue
        key = re.fullmatch(r"`([^`]+)`", cells[0])
        if not key:
            sys.exit(f"{doc}: schema row without a `key`: {line}")
        current[key.group(1)] = [t.strip() for t in cells[1].split(" or ")]
    return tables


class Checker:
    def __init__(self, tables):
        self.tables = tables
        self.errors = []
        for name, rows in tables.items():
            for key, types in rows.items():
                for t in types:
                    if t not in BASE and t not in tables:
                        sys.exit(f"table {name}: {key}: unknown type '{t}'")

    def fail(self, path, why):
        self.errors.append(f"{path or '(top)'}: {why}")

    def value(self, v, types, table, rel, path):
        for t in types:
            if t == "null" and v is None:
                return
            if t == "boolean" and isinstance(v, bool):
                return
            if t == "integer" and isinstance(v, int) and not isinstance(v, bool):
                return
            if t == "number" and isinstance(v, (int, float)) and not isinstance(v, bool):
                return
            if t == "string" and isinstance(v, str):
                return
            if t == "object" and isinstance(v, dict):
                return self.members(v, table, rel, path)
            if t == "array" and isinstance(v, list):
                elem = self.tables[table].get(rel + "[]")
                if elem is None and v:
                    return self.fail(path, f"array without a '{rel}[]' row in table {table}")
                for i, e in enumerate(v):
                    self.value(e, elem, table, rel + "[]", f"{path}[{i}]")
                return
            if t in self.tables and isinstance(v, dict):
                return self.members(v, t, "", path)
        self.fail(path, f"{json.dumps(v)[:60]} is not {' or '.join(types)}")

    def members(self, obj, table, rel, path):
        rows = self.tables[table]
        prefix = rel + "." if rel else ""
        wildcard = rows.get(prefix + "*")
        if wildcard is not None:
            for k, v in obj.items():
                self.value(v, wildcard, table, prefix + "*", f"{path}.{k}" if path else k)
            return
        wanted = {k[len(prefix):]: t for k, t in rows.items()
                  if k.startswith(prefix) and "." not in k[len(prefix):]
                  and not k.endswith("[]")}
        for k in wanted.keys() - obj.keys():
            self.fail(path, f"key '{k}' missing (table {table})")
        for k in obj.keys() - wanted.keys():
            self.fail(path, f"key '{k}' is not in table {table}: document it")
        for k in wanted.keys() & obj.keys():
            self.value(obj[k], wanted[k], table, prefix + k, f"{path}.{k}" if path else k)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    tables = read_tables(sys.argv[1])
    name = sys.argv[2]
    if name not in tables:
        sys.exit(f"{sys.argv[1]}: no table '| {name} key | type | meaning |'")
    data = open(sys.argv[3], "rb").read() if len(sys.argv) == 4 else sys.stdin.buffer.read()
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        print(f"not valid JSON/UTF-8: {e}")
        return 1
    c = Checker(tables)
    c.value(doc, [name], name, "", "")
    for e in c.errors:
        print(e)
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
