"""Fixtures of the nesf Python tests: the default model, the repository's data and tools.

The tests exercise the *installed* package (scripts/test-python.sh installs it first). To run
them against the source tree instead, set NESF_TEST_IN_TREE=1 and put bindings/python on
PYTHONPATH. NESF_REPO overrides where the repository (data/, include/, target/) is looked for.
"""

import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_SOURCE = HERE.parent  # bindings/python
REPO = pathlib.Path(os.environ.get("NESF_REPO") or HERE.parents[2]).resolve()
DATA = REPO / "data"


def pytest_report_header(config):
    import nesf

    return [
        f"nesf {nesf.__version__} from {os.path.dirname(nesf.__file__)}",
        f"libnesf {nesf.library_version()} from {nesf.library_path()}",
    ]


@pytest.fixture(scope="session")
def repo():
    """The repository root (with data/, include/, target/)."""
    return REPO


@pytest.fixture(scope="session")
def data_dir():
    """The repository's data/ folder (skips when absent)."""
    if not (DATA / "lcs6-val.extxyz").is_file():
        pytest.skip(f"no data set at {DATA}")
    return DATA


@pytest.fixture(scope="session")
def lcs6_val(data_dir):
    """Path of the LCS6Å validation split (286 structures, extended XYZ)."""
    return data_dir / "lcs6-val.extxyz"


@pytest.fixture(scope="session")
def model():
    """The default model, loaded once for the session."""
    import nesf

    with nesf.Model.default() as m:
        yield m


@pytest.fixture(scope="session")
def few_atoms(lcs6_val):
    """The first 5 structures of lcs6-val as ase.Atoms (read by ASE's own reader)."""
    import ase.io

    return ase.io.read(str(lcs6_val), index=":5", format="extxyz")


@pytest.fixture(scope="session")
def cli(repo):
    """The nesf command line program of target/release (skips when not built)."""
    path = repo / "target" / "release" / "nesf"
    if not path.is_file():
        pytest.skip(f"{path} is not built")
    return path
