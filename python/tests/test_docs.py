"""docs/python.md's ```python blocks, each run on its own in a temporary
directory (tests/docs/extract_blocks.py cuts them out), and the extractor's
own rules on a made-up page."""
import os
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR

EXTRACT = os.path.join(SOURCE_DIR, "tests", "docs", "extract_blocks.py")
DOC = os.path.join(SOURCE_DIR, "docs", "python.md")


def extract(doc, lang, outdir):
    r = subprocess.run([sys.executable, EXTRACT, doc, lang, str(outdir)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return [line.split(" ", 1) for line in r.stdout.splitlines()]


def test_every_python_block_runs(tmp_path):
    blocks = extract(DOC, "python", tmp_path / "blocks")
    assert len(blocks) >= 8  # the page's examples; a lost fence shows here
    failed = []
    for name, where in blocks:
        run_dir = tmp_path / name.split(".")[0]
        run_dir.mkdir()
        r = subprocess.run([sys.executable, str(tmp_path / "blocks" / name)], cwd=run_dir,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failed.append(f"{where} ({name}):\n{r.stderr.strip()}")
    assert not failed, "\n\n".join(failed)


def test_extractor_rules(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "text\n"
        "```python\nprint(1)\n```\n"
        "<!-- no-test -->\n\n"
        "```python\nskipped()\n```\n"
        "```sh\nnot python\n```\n"
        "1. a list\n"
        "   ~~~~python\n   if True:\n       print(2)\n   ```\n   ~~~~\n"
        "````python extra info\nprint('```')\n````\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "07.python").write_text("stale")
    blocks = extract(page, "python", out)
    assert [b[0] for b in blocks] == ["01.python", "02.python", "03.python"]
    assert [b[1] for b in blocks] == [f"{page}:2", f"{page}:14", f"{page}:19"]
    assert (out / "01.python").read_text() == "print(1)\n"
    assert (out / "02.python").read_text() == "if True:\n    print(2)\n```\n"
    assert (out / "03.python").read_text() == "print('```')\n"
    assert sorted(os.listdir(out)) == ["01.python", "02.python", "03.python"]
    unterminated = tmp_path / "bad.md"
    unterminated.write_text("```python\nprint(1)\n")
    r = subprocess.run([sys.executable, EXTRACT, str(unterminated), "python", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "never closed" in r.stderr
    r = subprocess.run([sys.executable, EXTRACT, str(page)], capture_output=True, text=True)
    assert r.returncode == 2


@pytest.mark.parametrize("lang", ["c"])
def test_extracts_the_c_api_page(tmp_path, lang):
    """The lead reuses the extractor for docs/c-api.md's C blocks."""
    blocks = extract(os.path.join(SOURCE_DIR, "docs", "c-api.md"), lang, tmp_path)
    assert blocks and all(os.path.getsize(tmp_path / name) > 0 for name, _ in blocks)
    assert "#include <granule.h>" in (tmp_path / blocks[0][0]).read_text()
