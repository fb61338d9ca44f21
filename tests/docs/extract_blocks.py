#!/usr/bin/env python3
"""Writes each fenced code block of one language in a Markdown file to its
own file, so a test can run or compile what the docs show.

    extract_blocks.py DOC LANG OUTDIR

Blocks whose info string starts with LANG (```python, ~~~python {.x}) are
written in order to OUTDIR/01.LANG, 02.LANG, ...; stale NN.LANG files there
are removed first. A block whose last non-blank line before the fence is
<!-- no-test --> is left out (a fragment, or one needing what CI lacks).
A fence indented by N spaces (inside a list) has up to N leading spaces
stripped from its lines, as Markdown does. Prints one line per written
block, "NN.LANG DOC:LINE" (the line of its opening fence), for messages.
Exit 0; 1 for an unterminated fence; 2 for a usage error.
"""
import os
import re
import sys

FENCE = re.compile(r"^( *)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")
NO_TEST = "<!-- no-test -->"


def blocks(lines, lang):
    """(line number of the opening fence, text, skipped) of every LANG block."""
    out = []
    i, previous = 0, ""
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, fence, info = len(m.group(1)), m.group(2), m.group(3)
        start = i
        body = []
        i += 1
        while i < len(lines):
            close = re.match(r"^ *(" + re.escape(fence[0]) + "{" + str(len(fence)) + r",})\s*$",
                             lines[i])
            if close:
                break
            line = lines[i]
            strip = len(line) - len(line.lstrip(" "))
            body.append(line[min(indent, strip):])
            i += 1
        else:
            raise ValueError(f"line {start + 1}: the fence {fence!r} is never closed")
        if info == lang:
            out.append((start + 1, "".join(body), previous == NO_TEST))
        previous = ""
        i += 1
    return out


def main(argv):
    if len(argv) != 4:
        print("usage: extract_blocks.py DOC LANG OUTDIR", file=sys.stderr)
        return 2
    doc, lang, outdir = argv[1:]
    try:
        with open(doc, encoding="utf-8") as f:
            found = blocks(f.readlines(), lang)
    except OSError as e:
        print(f"{argv[0]}: {doc}: {e.strerror}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"{argv[0]}: {doc}: {e}", file=sys.stderr)
        return 1
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):
        if re.fullmatch(r"\d+\." + re.escape(lang), name):
            os.unlink(os.path.join(outdir, name))
    n = 0
    for line, text, skipped in found:
        if skipped:
            continue
        n += 1
        name = f"{n:02d}.{lang}"
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{name} {doc}:{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
