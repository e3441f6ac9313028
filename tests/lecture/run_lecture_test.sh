#!/usr/bin/env bash
# tests/lecture/run_lecture_test.sh BUILD_DIR - the lecture page in a real browser.
#
# Builds the page (scripts/lecture) and lecture_native in BUILD_DIR (a native CMake build),
# loads the page in headless Chromium with #selftest=<the cases of cases.js>: the page sets
# each case through its controls, reads the displayed numbers back from its DOM and writes
# them into #selftest-result. compare.js then checks them against lecture_native on the same
# parameters and values (to float rounding), checks that every identity the page displays
# holds (differences <= 1e-4) and that invalid parameters show cgrad's own error. Screenshots
# of a few states go to build/lecture/screenshots/ (1280x800 and a 390x844 phone).
# Says "skipped: ..." and succeeds when emscripten or chromium cannot be installed.
set -euo pipefail
CG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:?usage: run_lecture_test.sh BUILD_DIR}" && pwd)
# shellcheck source=../../scripts/setup.sh
source "$CG_ROOT/scripts/setup.sh"
for tool in emcc:emscripten chromium:chromium node:nodejs; do
    if ! command -v "${tool%%:*}" >/dev/null 2>&1 && ! cg_install_packages "${tool#*:}"; then
        echo "lecture test: skipped: ${tool#*:} is not installed and cannot be installed here"
        exit 0
    fi
done

"$CG_ROOT/scripts/lecture"
cmake --build "$BUILD" --target lecture_native >/dev/null
page=$CG_ROOT/build/lecture/conv_lecture.html
shots=$CG_ROOT/build/lecture/screenshots
mkdir -p "$shots"
cases=$(mktemp)
dom=$(mktemp)
trap 'rm -f "$cases" "$dom"' EXIT
node "$CG_ROOT/tests/lecture/cases.js" >"$cases"

# The module compiles synchronously, so the self-test is done when the load event fires and
# --dump-dom prints (dbus complaints on stderr are noise).
browse() { # browse URL_HASH [chromium options...]
    local hash=$1
    shift
    timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
        "$@" "file://$page#$hash" 2>/dev/null
}
hash_of() { node -e 'process.stdout.write("selftest=" + encodeURIComponent(JSON.stringify(JSON.parse(require("fs").readFileSync(0, "utf8")))))'; }

browse "$(hash_of <"$cases")" --dump-dom >"$dom"
node "$CG_ROOT/tests/lecture/compare.js" "$BUILD/tests/lecture_native" "$cases" <"$dom"

# Screenshots: case i of cases.js showing one view, at a desktop and a phone size.
for shot in 0:formula:conv2d 1:window:groups_stride 1:unrolled:unrolled_M 4:transposed:transposed \
    2:backward:backward 6:error:error; do
    IFS=: read -r i view name <<<"$shot"
    one=$(node -e "const c = JSON.parse(require('fs').readFileSync('$cases', 'utf8'))[$i];
        console.log(JSON.stringify([{ ...c, only: '$view' }]))" | hash_of)
    browse "$one" --window-size=1280,800 --screenshot="$shots/${name}_1280x800.png" >/dev/null
    browse "$one" --window-size=390,844 --screenshot="$shots/${name}_390x844.png" >/dev/null
done
echo "lecture test: passed (screenshots in $shots)"
