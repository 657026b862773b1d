"""Build of the nesf Python package: copies libnesf into the package (``nesf/_lib``) so the
installed package is self-contained, and marks the wheel as platform-specific.

libnesf is found in this order:
  1. the ``NESF_LIBRARY`` environment variable (the path of a libnesf shared library);
  2. the repository's ``target/release`` (``../../target/release`` from this file, or
     ``$CARGO_TARGET_DIR/release``), as ``cargo build --release`` leaves it;
  3. otherwise ``cargo build --release --lib`` is run in the repository root (``$CARGO``
     names another cargo) and its result taken.

Metadata is in pyproject.toml.
"""

import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))

if sys.platform == "darwin":
    LIB_NAME = "libnesf.dylib"
elif sys.platform == "win32":
    LIB_NAME = "nesf.dll"
else:
    LIB_NAME = "libnesf.so"


def _log(message):
    print(f"nesf build: {message}", file=sys.stderr)


def find_libnesf():
    """The path of the libnesf to bundle (building it with cargo when there is none)."""
    env = os.environ.get("NESF_LIBRARY")
    if env:
        if not os.path.isfile(env):
            raise SystemExit(f"nesf build: NESF_LIBRARY is {env!r}, which is not a file")
        _log(f"taking libnesf from NESF_LIBRARY: {env}")
        return env
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
    if not os.path.isabs(target):
        target = os.path.join(REPO, target)
    built = os.path.join(target, "release", LIB_NAME)
    if os.path.isfile(built):
        _log(f"taking libnesf from the repository: {built}")
        return built
    if not os.path.isfile(os.path.join(REPO, "Cargo.toml")):
        raise SystemExit(
            f"nesf build: no {LIB_NAME} found: set NESF_LIBRARY to a built libnesf, or build "
            "the package from a clone of the nesf repository (bindings/python), where it is "
            "built with cargo"
        )
    cargo = os.environ.get("CARGO", "cargo")
    _log(f"{built} does not exist: running {cargo} build --release --lib in {REPO}")
    try:
        subprocess.run([cargo, "build", "--release", "--lib"], cwd=REPO, check=True)
    except FileNotFoundError:
        raise SystemExit(
            f"nesf build: {cargo!r} was not found: install Rust (https://rustup.rs) or set "
            "NESF_LIBRARY to a built libnesf"
        ) from None
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"nesf build: cargo build failed (exit status {e.returncode})") from None
    if not os.path.isfile(built):
        raise SystemExit(f"nesf build: cargo build succeeded but {built} does not exist")
    return built


class BuildPyWithLibrary(build_py):
    """build_py that also puts libnesf into the built package as nesf/_lib/<name>."""

    def run(self):
        super().run()
        source = find_libnesf()
        folder = os.path.join(self.build_lib, "nesf", "_lib")
        os.makedirs(folder, exist_ok=True)
        destination = os.path.join(folder, LIB_NAME)
        shutil.copyfile(source, destination)
        os.chmod(destination, 0o755)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, "nesf", "_lib", LIB_NAME)
        ]


class BinaryDistribution(Distribution):
    """The package holds a native library: install it as platform-specific (platlib)."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLibrary}

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

if _bdist_wheel is not None:

    class BdistWheelPlatform(_bdist_wheel):
        """A wheel for this platform (it holds a native library) but any Python 3 (the
        library is loaded with ctypes, there is no extension module): py3-none-<platform>."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    cmdclass["bdist_wheel"] = BdistWheelPlatform

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
