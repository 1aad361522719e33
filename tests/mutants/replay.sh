#!/bin/sh
# Replay one broken build of tests/mutants/README.md: copy the checkout (without .git and the
# venv), apply tests/mutants/<name>.patch to the copy, run the tests the patch names on its
# "# test:" lines there, and report whether they caught it. The checkout itself is not touched.
#
#   sh tests/mutants/replay.sh body-read-whole              # one
#   sh tests/mutants/replay.sh                              # all of them
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
status=0
names=${*:-$(cd "$here/tests/mutants" && ls *.patch | sed 's/\.patch$//')}
for name in $names; do
    patch_file="$here/tests/mutants/$name.patch"
    work=$(mktemp -d "${TMPDIR:-/tmp}/mutant-$name.XXXXXX")
    rsync -a --exclude .git --exclude .venv --exclude '.*_cache' --exclude .hypothesis \
        --exclude build --exclude '*.egg-info' --exclude '.coverage*' "$here/" "$work/copy/"
    if ! (cd "$work/copy" && patch -s -p1 <"$patch_file"); then
        echo "$name: the patch no longer applies"; status=1; rm -rf "$work"; continue
    fi
    tests=$(sed -n 's/^# test: //p' "$patch_file")
    # In-process tests import outlook_anywhere: the copy's plugins/ first on the path, ahead of
    # the editable install (which points at the checkout).
    if (cd "$work/copy" && PYTHONPATH="$work/copy/plugins" "$python" -m pytest -q -p no:cacheprovider \
            -o addopts="" $tests >"$work/log" 2>&1); then
        echo "$name: SURVIVED (the tests passed on the broken build; log in $work/log)"
        status=1
    else
        echo "$name: caught by $(grep -E '^(FAILED|ERROR) ' "$work/log" | sed 's/^[A-Z]* //; s/ - .*//' | tr '\n' ' ')"
        rm -rf "$work"
    fi
done
exit $status
