"""The READMEs' Python example runs as written, from a directory outside the source tree."""

import pathlib
import re
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve()
#: The package's README and the repository's, which shows the same five lines.
READMES = [HERE.parents[1] / "README.md", HERE.parents[3] / "README.md"]


def readme_example(readme):
    text = readme.read_text()
    block = re.search(
        r"<!-- example:begin -->\s*```python\n(.*?)```\s*<!-- example:end -->", text, flags=re.S
    )
    assert block, f"{readme} has no example between <!-- example:begin --> and <!-- example:end -->"
    return block.group(1)


def test_both_readmes_show_the_same_example():
    assert readme_example(READMES[0]) == readme_example(READMES[1])


@pytest.mark.parametrize("readme", READMES[:1], ids=["README"])
def test_readme_example_runs(tmp_path, readme):
    code = readme_example(readme)
    assert len(code.strip().splitlines()) == 5
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    # the fcc Cu cell comes back as four Cu atoms
    assert done.stdout.startswith("Cu4 "), done.stdout
