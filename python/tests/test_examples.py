"""examples/python/: every program docs/python.md quotes (tools.doc_snippets
checks the quotes are verbatim) runs to its end, each on its own in a
temporary directory, its asserts checking real outcomes. copy.py takes
arguments: test_copy_example.py tests it."""
import os
import subprocess
import sys

import pytest

from conftest import SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "examples", "python")
PROGRAMS = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py") and f != "copy.py")
EXPECTED_STDOUT = {"quickstart.py": "4096 2\n"}


def test_the_docs_programs_are_all_here():
    with open(os.path.join(SOURCE_DIR, "docs", "python.md")) as f:
        blocks = f.read().count("\n```python\n")
    assert len(PROGRAMS) >= 9 and blocks >= len(PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS)
def test_example_runs(program, tmp_path):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, program)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    if program in EXPECTED_STDOUT:
        assert r.stdout == EXPECTED_STDOUT[program]
