"""The package itself: installation, the library it loads, ONNX Runtime, the C struct mirrors."""

import ctypes
import glob
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import nesf
from nesf import _capi

HERE = pathlib.Path(__file__).resolve().parent
SOURCE_PACKAGE = HERE.parent / "nesf"


def run_python(code, env=None, cwd=None):
    """Runs code in a fresh interpreter; returns its stdout (fails the test on an error)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_installed_package_is_tested():
    here = pathlib.Path(nesf.__file__).resolve().parent
    if os.environ.get("NESF_TEST_IN_TREE") == "1":
        pytest.skip("NESF_TEST_IN_TREE=1: testing the source tree")
    assert here != SOURCE_PACKAGE.resolve(), (
        "the source tree's nesf package shadows the installed one; run pytest from another "
        "directory (scripts/test-python.sh does) or set NESF_TEST_IN_TREE=1"
    )
    bundled = here / "_lib" / os.path.basename(nesf.library_path())
    assert bundled.is_file(), "the installed package holds no copy of libnesf"
    if "NESF_LIBRARY" not in os.environ:
        assert pathlib.Path(nesf.library_path()).resolve() == bundled.resolve()


def test_versions():
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", nesf.__version__)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", nesf.library_version())
    # same major.minor: the package mirrors this library's structs
    assert nesf.__version__.split(".")[:2] == nesf.library_version().split(".")[:2]


def test_public_items_have_docstrings():
    import nesf.matching

    missing = []
    for module in (nesf, nesf.matching):
        assert module.__doc__
        for name in module.__all__:
            if name.startswith("__"):
                continue
            item = getattr(module, name)
            if not getattr(item, "__doc__", None):
                missing.append(f"{module.__name__}.{name}")
            if isinstance(item, type):
                for attr, value in vars(item).items():
                    if attr.startswith("_") or not callable(value) and not isinstance(
                        value, property
                    ):
                        continue
                    if isinstance(value, (classmethod, staticmethod)):
                        value = value.__func__
                    if not getattr(value, "__doc__", None):
                        missing.append(f"{module.__name__}.{name}.{attr}")
    assert not missing, missing


def test_runtime_is_the_onnxruntime_wheels_library(model):
    wheel = _capi.onnxruntime_wheel_library()
    assert wheel is not None, "the onnxruntime package has no shared library"
    info = nesf.load_runtime()
    if os.environ.get("NESF_ONNXRUNTIME"):
        pytest.skip("NESF_ONNXRUNTIME is set: the library chose the runtime")
    assert os.path.realpath(info.path) == os.path.realpath(wheel)
    if sys.platform.startswith("linux"):
        # one copy of ONNX Runtime in the process
        with open("/proc/self/maps") as maps:
            mapped = {line.split()[-1] for line in maps if "libonnxruntime.so" in line}
        assert {os.path.realpath(p) for p in mapped} == {os.path.realpath(wheel)}


def test_runtime_version_is_reported(model):
    info = nesf.load_runtime()
    version = re.search(r"libonnxruntime\.so\.(\d+\.\d+\.\d+)", info.path)
    assert info.version != "unknown"
    if version:
        assert info.version == version.group(1)


def test_runtime_cannot_switch_file(model, tmp_path):
    other = tmp_path / "libonnxruntime.so.0.0.0"
    other.write_bytes(b"not a library")
    with pytest.raises(nesf.NesfError) as e:
        nesf.load_runtime(other)
    assert e.value.status == nesf.Status.RUNTIME
    assert e.value.message.startswith("nesf_runtime_load:")


def test_nesf_onnxruntime_env_is_honoured(tmp_path):
    wheel = _capi.onnxruntime_wheel_library()
    # a copy elsewhere: the library must load the file the environment names
    copy = tmp_path / os.path.basename(wheel)
    shutil.copyfile(wheel, copy)
    out = run_python(
        "import nesf; nesf.Model.default().close(); print(nesf.load_runtime().path)",
        env={"NESF_ONNXRUNTIME": str(copy)},
    )
    assert os.path.realpath(out.strip()) == os.path.realpath(copy)


def test_nesf_library_env_overrides_the_bundled_library(tmp_path):
    copy = tmp_path / "libnesf-copy.so"
    shutil.copyfile(nesf.library_path(), copy)
    out = run_python("import nesf; print(nesf.library_path())", env={"NESF_LIBRARY": str(copy)})
    assert out.strip() == str(copy)
    done = subprocess.run(
        [sys.executable, "-c", "import nesf"],
        capture_output=True,
        text=True,
        env=dict(os.environ, NESF_LIBRARY=str(tmp_path / "missing.so")),
        timeout=60,
    )
    assert done.returncode != 0 and "NESF_LIBRARY" in done.stderr


def header_struct_fields(header, name):
    """Field names of `typedef struct name { ... } name;` in a C header."""
    text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, flags=re.S)
    assert body, f"{name} not found in {header}"
    fields = []
    for declaration in body.group(1).split(";"):
        declaration = declaration.strip()
        if declaration:
            fields.append(re.match(r".*?(\w+)\s*(\[[^\]]*\])?$", declaration, flags=re.S).group(1))
    return fields


@pytest.mark.parametrize(
    "c_name, mirror",
    [("nesf_decode_options_t", _capi.DecodeOptionsC), ("nesf_model_options_t", _capi.ModelOptionsC)],
)
def test_structs_mirror_the_header(repo, c_name, mirror):
    header = repo / "include" / "nesf.h"
    if not header.is_file():
        pytest.skip(f"no {header}")
    assert header_struct_fields(header, c_name) == [n for n, _ in mirror._fields_]
    cc = shutil.which("cc")
    if cc is None:
        return
    # sizes and offsets as a C compiler lays the struct out
    fields = [n for n, _ in mirror._fields_]
    program = "\n".join(
        ["#include <stdio.h>", "#include <stddef.h>", '#include "nesf.h"', "int main(void) {"]
        + [f'printf("%zu\\n", sizeof({c_name}));']
        + [f'printf("%zu\\n", offsetof({c_name}, {f}));' for f in fields]
        + ["return 0; }"]
    )
    folder = pathlib.Path(os.environ.get("TMPDIR", "/tmp"))
    source = folder / f"nesf_layout_{os.getpid()}.c"
    binary = folder / f"nesf_layout_{os.getpid()}"
    source.write_text(program)
    try:
        subprocess.run(
            [cc, "-I", str(header.parent), str(source), "-o", str(binary)], check=True, timeout=60
        )
        values = [int(v) for v in subprocess.check_output([str(binary)], text=True).split()]
    finally:
        source.unlink(missing_ok=True)
        binary.unlink(missing_ok=True)
    assert values[0] == ctypes.sizeof(mirror)
    assert values[1:] == [getattr(mirror, f).offset for f in fields]


def test_library_accepts_this_decode_options_size():
    assert _capi.decode_options_size() == ctypes.sizeof(_capi.DecodeOptionsC)


def test_source_package_finds_the_repository_library(repo):
    built = repo / "target" / "release" / "libnesf.so"
    if not built.is_file() or not SOURCE_PACKAGE.is_dir():
        pytest.skip("no source tree with a built libnesf")
    env = {"PYTHONPATH": str(SOURCE_PACKAGE.parent)}
    env.pop("NESF_LIBRARY", None)
    code = "import nesf; print(nesf.__file__); print(nesf.library_path())"
    full = {k: v for k, v in os.environ.items() if k != "NESF_LIBRARY"}
    full.update(env)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=60
    )
    assert done.returncode == 0, done.stderr
    module, library = done.stdout.split()
    assert pathlib.Path(module).resolve().parent == SOURCE_PACKAGE.resolve()
    assert pathlib.Path(library).resolve() == built.resolve()
