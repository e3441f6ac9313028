#!/bin/sh
# expect_failure.sh REGEX COMMAND [ARGS...] - a CLI check for ctest: passes when COMMAND
# fails cleanly (exit status 1..125: not 0, not a signal or crash), prints a message that
# matches the extended regex REGEX, and no sanitizer reports anything (leaks on error paths
# included).
regex=$1
shift
out=$("$@" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -eq 0 ] || [ "$status" -gt 125 ]; then
    echo "expect_failure: exit status $status, wanted a clean failure (1..125)"
    exit 1
fi
if printf '%s\n' "$out" | grep -q 'Sanitizer\|runtime error'; then
    echo "expect_failure: sanitizer report"
    exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
    echo "expect_failure: no message matching /$regex/"
    exit 1
fi
