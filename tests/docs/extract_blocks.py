"""Writes each fenced code block of one language in a Markdown file to
OUTDIR/NN.LANG (NN counting that language's blocks from 01, in order), so
the docs' examples can be compiled and run in CI. A block right after a line
`<!-- no-test -->` is counted but not written.

    extract_blocks.py DOC LANG OUTDIR
"""
import pathlib
import sys


def main():
    doc, lang, outdir = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    outdir.mkdir(parents=True, exist_ok=True)
    count = 0
    block = None
    skip = False
    previous = ""
    for line in pathlib.Path(doc).read_text().splitlines():
        if block is None and line.strip() == "```" + lang:
            count += 1
            block = []
            skip = previous.strip() == "<!-- no-test -->"
        elif block is not None and line.strip() == "```":
            if not skip:
                (outdir / f"{count:02d}.{lang}").write_text("\n".join(block) + "\n")
            block = None
        elif block is not None:
            block.append(line)
        if line.strip():
            previous = line
    if block is not None:
        sys.exit(f"{doc}: a ```{lang} block is not closed")


if __name__ == "__main__":
    main()
