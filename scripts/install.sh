#!/usr/bin/env bash
# Installs the nesf C library into PREFIX:
#   lib/libnesf.so.X.Y.Z (SONAME libnesf.so.0.Y for 0.x releases) + libnesf.so symlinks,
#   lib/libnesf.a, the ONNX Runtime library beside libnesf.so (where libnesf finds it),
#   include/nesf.h and include/nesf.hpp (C++ wrapper),
#   lib/cmake/nesf/ (find_package(nesf): targets nesf::nesf and nesf::nesf_static),
#   lib/pkgconfig/nesf.pc, share/nesf/fortran/nesf.f90 (Fortran module, as source).
# The install is relocatable: the CMake and pkg-config files locate the prefix themselves.
#
# Usage: scripts/install.sh [--no-build] [--lib-dir DIR] PREFIX
#   --no-build     do not run `cargo build --release`; take the libraries as they are
#   --lib-dir DIR  where libnesf.so and libnesf.a are (default: target/release)
# Environment: NESF_ONNXRUNTIME, the ONNX Runtime library to ship (default: the one
# scripts/provision-onnxruntime.sh puts in .deps/onnxruntime/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=1
lib_dir=""
prefix=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-build) build=0 ;;
        --lib-dir) lib_dir="$2"; shift ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        -*) echo "install: unknown option $1" >&2; exit 2 ;;
        *) prefix="$1" ;;
    esac
    shift
done
if [[ -z "$prefix" ]]; then
    echo "usage: scripts/install.sh [--no-build] [--lib-dir DIR] PREFIX" >&2
    exit 2
fi
lib_dir="${lib_dir:-$root/target/release}"

if [[ "$build" == 1 ]]; then
    (cd "$root" && cargo build --release --lib)
fi
for f in libnesf.so libnesf.a; do
    if [[ ! -f "$lib_dir/$f" ]]; then
        echo "install: $lib_dir/$f is missing (build with cargo build --release)" >&2
        exit 1
    fi
done

version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
# the SONAME is build.rs's (the one place its rule lives), read off the built library
soname="$(readelf -d "$lib_dir/libnesf.so" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
if [[ -z "$soname" ]]; then
    echo "install: cannot read the SONAME of $lib_dir/libnesf.so (readelf from binutils is needed)" >&2
    exit 1
fi

ort="${NESF_ONNXRUNTIME:-$root/.deps/onnxruntime/libonnxruntime.so}"
if [[ ! -e "$ort" ]]; then
    echo "install: no ONNX Runtime library at $ort (run scripts/provision-onnxruntime.sh)" >&2
    exit 1
fi
ort_real="$(readlink -f "$ort")"
ort_dir="$(dirname "$ort_real")"

mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
lib="$prefix/lib"
mkdir -p "$lib/cmake/nesf" "$lib/pkgconfig" "$prefix/include" "$prefix/share/nesf/fortran"

# the library, under its full version with the SONAME and development links
rm -f "$lib"/libnesf.so*
install -m 0755 "$lib_dir/libnesf.so" "$lib/libnesf.so.$version"
ln -sfn "libnesf.so.$version" "$lib/$soname"
ln -sfn "$soname" "$lib/libnesf.so"
install -m 0644 "$lib_dir/libnesf.a" "$lib/libnesf.a"

# ONNX Runtime beside libnesf.so, with its helper library and the plain name nesf looks for
install -m 0755 "$ort_real" "$lib/$(basename "$ort_real")"
if [[ -f "$ort_dir/libonnxruntime_providers_shared.so" ]]; then
    install -m 0755 "$ort_dir/libonnxruntime_providers_shared.so" "$lib/"
fi
if [[ "$(basename "$ort_real")" != libonnxruntime.so ]]; then
    ln -sfn "$(basename "$ort_real")" "$lib/libonnxruntime.so"
fi

install -m 0644 "$root/include/nesf.h" "$prefix/include/nesf.h"
install -m 0644 "$root/bindings/cpp/nesf.hpp" "$prefix/include/nesf.hpp"
install -m 0644 "$root/bindings/fortran/nesf.f90" "$prefix/share/nesf/fortran/nesf.f90"

# libraries a static link needs besides libnesf.a: what `cargo rustc --release --lib
# --crate-type staticlib -- --print native-static-libs` printed for x86_64 and aarch64 Linux
# (the static downstream link in tests/install.rs checks it still suffices)
static_libs="-ldl -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

sed -e "s|@NESF_VERSION@|$version|g" -e "s|@NESF_SONAME@|$soname|g" \
    "$root/cmake/nesfConfig.cmake.in" > "$lib/cmake/nesf/nesfConfig.cmake"
sed -e "s|@NESF_VERSION@|$version|g" \
    "$root/cmake/nesfConfigVersion.cmake.in" > "$lib/cmake/nesf/nesfConfigVersion.cmake"
cat > "$lib/pkgconfig/nesf.pc" <<EOF
prefix=\${pcfiledir}/../..
exec_prefix=\${prefix}
libdir=\${prefix}/lib
includedir=\${prefix}/include
onnxruntime=\${libdir}/libonnxruntime.so
fortran_module_source=\${prefix}/share/nesf/fortran/nesf.f90

Name: nesf
Description: Neural Structure Fields: decode latent vectors into crystal structures
Version: $version
Libs: -L\${libdir} -lnesf
Libs.private: $static_libs
Cflags: -I\${includedir}
EOF

echo "$prefix"
