#!/bin/sh
# make mutation: mutmut over the pure rule modules, against their fast in-process tests.
#
# mutmut rewrites the module it mutates in place, so it runs on a copy of the checkout in
# build/mutation/tree (the checkout is never touched). The package folder is plugins/ but the
# tests import it as outlook_anywhere: a link build/mutation/shim/outlook_anywhere -> the copy's
# plugins/, first on PYTHONPATH, makes the tests import the mutated copy (ahead of the editable
# install, which points at the checkout).
#
#   MUTATE      the modules to mutate (default: plugins/principal.py)
#   MUTATION_TESTS  the tests run against each mutant
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$here/.venv}
mutmut=$(cd "$here" && realpath "${MUTMUT:-build/mutation-venv/bin/mutmut}")
MUTATE=${MUTATE:-plugins/principal.py}
MUTATION_TESTS=${MUTATION_TESTS:-tests/test_principal.py tests/test_principal_rules.py}
work=$here/build/mutation
rm -rf "$work"
mkdir -p "$work/shim"
rsync -a --exclude .git --exclude .venv --exclude '.*_cache' --exclude .hypothesis \
    --exclude build --exclude '*.egg-info' "$here/" "$work/tree/"
ln -s "$work/tree/plugins" "$work/shim/outlook_anywhere"
cd "$work/tree"
export PYTHONPATH="$work/shim"
"$venv/bin/python" -c 'import outlook_anywhere, sys; sys.exit(0 if outlook_anywhere.__file__.startswith(sys.argv[1]) else 1)' "$work/shim" \
    || { echo "mutation: the tests would not import the mutated copy"; exit 1; }
runner="$venv/bin/python -m pytest -x -q -p no:cacheprovider -o addopts= $MUTATION_TESTS"
for module in $MUTATE; do
    "$mutmut" run --paths-to-mutate "$module" --runner "$runner" --tests-dir tests \
        --no-progress --simple-output >"$work/run.log" 2>&1 || true
done
if grep -q "Tests don't run cleanly without mutations" "$work/run.log"; then
    echo "mutation: the tests fail without any mutant; see $work/run.log"
    exit 1
fi
"$mutmut" results >"$work/results.txt" 2>&1 || true
"$venv/bin/python" - "$work/tree/.mutmut-cache" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "select m.status, count(*) from Mutant m group by m.status"
).fetchall()
counts = dict(rows)
total = sum(counts.values())
# ok_killed and ok_suspicious (killed, slowly) are kills; bad_timeout and bad_survived are not
killed = counts.get("ok_killed", 0) + counts.get("ok_suspicious", 0)
print(f"mutation: {killed} of {total} mutants killed ({100 * killed / max(total, 1):.1f} %)")
for status, count in sorted(counts.items()):
    print(f"  {status}: {count}")
PY
echo "survivors (mutmut results; 'mutmut show N' in $work/tree shows one):"
sed -n '/Survived/,$p' "$work/results.txt"
