# scripts/setup.sh - sourced by scripts/run and scripts/test: install what is missing.
#
# Installs Debian packages with apt-get when running as root, through sudo otherwise,
# and says what to install by hand when neither is possible.

cg_missing_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    echo "${missing[@]}"
}

cg_install_packages() {
    local missing
    missing=$(cg_missing_packages "$@")
    [ -z "$missing" ] && return 0
    echo "cgrad: installing missing packages: $missing"
    local apt=(apt-get)
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            apt=(sudo apt-get)
        else
            echo "cgrad: these Debian packages are missing: $missing" >&2
            echo "cgrad: install them as root:  apt-get install $missing" >&2
            return 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${apt[@]}" update -q >/dev/null || { echo "cgrad: apt-get update failed" >&2; return 1; }
    # shellcheck disable=SC2086
    "${apt[@]}" install -y -q --no-install-recommends $missing >/dev/null ||
        { echo "cgrad: apt-get install $missing failed" >&2; return 1; }
}

# cg_install_npm PACKAGE VERSION: install an npm package once, outside any build directory,
# into ${CG_NPM_CACHE:-~/.cache/cgrad/npm}/PACKAGE-VERSION, and print that directory.
# Install scripts are not run (nothing is downloaded beyond the registry's tarballs); the
# directory appears only complete (installed beside it, then renamed), so concurrent callers
# and interrupted installs never see half a package. Node's npm comes with nodejs (or the
# Debian npm package).
cg_install_npm() {
    local pkg=$1 version=$2
    local dir="${CG_NPM_CACHE:-$HOME/.cache/cgrad/npm}/$pkg-$version"
    if [ ! -f "$dir/node_modules/$pkg/package.json" ]; then
        command -v npm >/dev/null 2>&1 || cg_install_packages nodejs >&2 || return 1
        command -v npm >/dev/null 2>&1 || cg_install_packages npm >&2 || return 1
        mkdir -p "$(dirname "$dir")" || return 1
        local tmp
        tmp=$(mktemp -d "$dir.tmp.XXXXXX") || return 1
        echo "cgrad: installing $pkg@$version from the npm registry into $dir" >&2
        if ! (cd "$tmp" && npm install --no-audit --no-fund --ignore-scripts --no-save \
            "$pkg@$version" >install.log 2>&1); then
            echo "cgrad: npm install $pkg@$version failed:" >&2
            tail -5 "$tmp/install.log" >&2
            rm -rf "$tmp"
            return 1
        fi
        mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp" # another caller was first
    fi
    echo "$dir"
}

# What building and testing cgrad needs (plain python3 generates test_bad_calls' NULL walk
# from the headers, scripts/gen-null-walk; torch regenerates fixtures, runs the PyTorch side
# of the benchmarks and the one interop test below).
CG_BUILD_PACKAGES=(gcc make cmake pkg-config libc6-dev libgomp1 zlib1g-dev libcmocka-dev libstb-dev
    python3)
CG_DATA_PACKAGES=(dataset-fashion-mnist)
# torch itself loading a cgrad-written .pth (tests/test_pth.c runs tests/fixtures/gen_pth.py
# --check with /usr/bin/python3; without torch that test prints SKIPPED and passes), and
# Python's protobuf decoding the TensorBoard event files (tests/tfevents_check.py).
CG_INTEROP_PACKAGES=(python3-torch python3-protobuf)
# ONNX's backend node tests of the conv / pool / batch-norm family: the ctest
# onnx_node_fixture checks that the committed tests/fixtures/onnx_node.txt (which
# test_onnx_node_conv runs; it needs no package) equals what gen_onnx_node.py makes of them.
# python3-onnx's checker also checks the files ONNX export writes (tests/onnx/check_onnx.py).
CG_INTEROP_PACKAGES+=(libonnx-testdata python3-onnx)
# ONNX Runtime for the exported models (tests/onnx/run_ort_test.sh): the npm package, whose
# tarball bundles the CPU library for linux-x64 (1.17.0 has no install script; later
# versions run one that can download), installed once by cg_install_npm.
CG_ORT_VERSION=1.17.0
# The libFuzzer harnesses of tests/fuzz (scripts/fuzz): clang, its sanitizer and libFuzzer
# runtimes, and the LLVM OpenMP runtime clang links instead of libgomp.
CG_FUZZ_PACKAGES=(clang libclang-rt-14-dev libomp-dev)
# Data-parallel training (dist/) over MPI; without it dist/ builds as a single process.
CG_MPI_PACKAGES=(libopenmpi-dev openmpi-bin)

cg_configure_and_build() {  # cg_configure_and_build BUILD_DIR [cmake args...]
    local dir=$1
    shift
    cmake -S "$CG_ROOT" -B "$dir" "$@" >"$dir.configure.log" 2>&1 ||
        { cat "$dir.configure.log" >&2; return 1; }
    cmake --build "$dir" -j "$(nproc)" 2>&1 | grep -vE '^\[ *[0-9]+%\]|^-- ' || true
    [ "${PIPESTATUS[0]}" -eq 0 ]
}
