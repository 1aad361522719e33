#!/bin/sh
# make mutation: mutmut over the rule modules and the transport's wire rules, against their fast
# in-process tests.
#
# mutmut rewrites the module it mutates in place, so it runs on copies of the checkout, one per
# module, in build/mutation/<module>/tree (the checkout is never touched); the modules run
# MUTATION_JOBS at a time (mutmut 2 runs one mutant at a time, so this is the only parallelism).
# The copy's plugins/ folder, first on PYTHONPATH, makes the tests import the mutated copy of
# outlook_anywhere (ahead of the editable install, which points at the checkout).
#
#   MUTATE          the modules to mutate (default: judgement/, check/words/, and the transport's
#                   rts.py, auth.py and body.py)
#   MUTATION_TESTS  the tests run against each mutant (default: each module's in-process tests)
#   MUTATION_JOBS   modules mutated at once (default: the number of CPUs)
#   MUTATION_FRESH  set: forget the last run. Unset, mutmut's cache is kept: a mutant once killed
#                   stays killed (tests are only ever added), every other one is tested again
#                   when the tests changed, and lines that changed are mutated anew.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${VENV:-$here/.venv}
mutmut=$(cd "$here" && realpath "${MUTMUT:-build/mutation-venv/bin/mutmut}")
# The largest modules first (they have the most mutants; the small ones fill in beside them):
# every module of judgement/ and every room of check/words/ (not their __init__.py, which only
# re-export), and the transport's wire rules: RTS PDUs, authentication, the HTTP body reader.
if [ -z "${MUTATE:-}" ]; then
    for name in check/words/logon judgement/verdict transport/rts check/words/summary \
        transport/auth judgement/logon check/words/frontdoors judgement/principal \
        judgement/frontdoors check/words/principal judgement/findings transport/body \
        check/words/revocation check/words/phrases judgement/autodiscover \
        judgement/revocation check/words/autodiscover check/words/kerberos \
        check/words/verdict judgement/proxy judgement/policy judgement/kerberos \
        check/words/shared check/words/rpc check/words/proxy judgement/rpc; do
        MUTATE="${MUTATE:-} plugins/outlook_anywhere/$name.py"
    done
fi
# The in-process tests only: a selection that starts the lab or the plugin costs minutes per
# mutant (test_words.py's other tests, the lab-backed ones of test_revocation.py and
# test_wire_rules.py). Unset, each module gets its own selection, its exact tests first: most
# mutants are caught by the first test that runs (the hypothesis properties of
# test_principal.py, the slowest, only for judgement/principal.py).
MUTATION_TESTS=${MUTATION_TESTS:-}
WORDS_TESTS="tests/test_words_rules.py tests/test_summary_parts.py tests/test_install_hints.py tests/test_words.py::test_words_matrix \
tests/test_words.py::test_words_matrix_of_the_http_checks"
REVOCATION_TESTS="tests/test_revocation_rules.py tests/test_revocation.py::test_judge_certificate \
tests/test_revocation.py::test_revoked_evidence_carries_serial_date_and_reason \
tests/test_revocation.py::test_a_certificate_without_known_issuer_is_not_judged_on_its_own \
tests/test_revocation.py::test_judge_chain_counts_against_every_node_that_sent_it \
tests/test_revocation.py::test_revocation_phrases \
tests/test_revocation.py::test_long_names_and_urls_keep_the_first_line_short"
LOGON_TESTS="tests/test_logon_rules.py tests/test_logon_words.py tests/test_logon_words_edges.py tests/test_logon_tables.py tests/test_logon_words_exact.py \
tests/test_kerberos_rules.py"
FRONTDOOR_TESTS="tests/test_frontdoor_rules.py"
PROXY_TESTS="tests/test_proxy_rules.py"
# every in-process test of the rules and the words: what a judgement module or a room of the
# words is run against, after its own
ALL_RULES="$WORDS_TESTS tests/test_judgement_rules.py tests/test_judgement.py tests/test_verdict_parts.py tests/test_finding_kinds.py tests/test_policy.py \
tests/test_words.py::test_fix_never_proposes_what_the_certificates_do_not_satisfy \
$LOGON_TESTS $PROXY_TESTS $FRONTDOOR_TESTS $REVOCATION_TESTS tests/test_rule_imports.py"
AUTH_TESTS="tests/test_wire_rule_edges.py tests/test_auth_handshake.py \
tests/test_wire_rules.py::test_a_challenge_keeps_its_token \
tests/test_wire_rules.py::test_challenges_per_rfc_7235 \
tests/test_wire_rules.py::test_no_certificate_no_binding_and_garbage_is_hashed_with_sha256 \
tests/test_wire_rules.py::test_the_binding_of_other_signature_algorithms"
RTS_TESTS="tests/test_rts.py tests/test_rts_layout.py tests/test_wire_rules.py::test_the_echo_carries_the_server_query"
BODY_TESTS="tests/test_http_body.py tests/test_http_protocol.py"
MUTATION_JOBS=${MUTATION_JOBS:-$(nproc 2>/dev/null || echo 1)}
work=$here/build/mutation
export here venv mutmut MUTATION_TESTS work

# The copy a module is mutated in: its path under the package, dotted (check.words.principal
# and judgement.principal are two modules, two copies)
copy_of() {
    name=${1#plugins/outlook_anywhere/}
    name=${name%.py}
    echo "$work/$(echo "$name" | tr / .)"
}

if [ "${1:-}" = --one ]; then  # mutate one module in a copy of its own
    module=$2
    dir=$(copy_of "$module")
    mkdir -p "$dir"
    # the copy is brought up to date, mutmut's cache kept (and any file a killed run left
    # mutated is replaced)
    rsync -a --delete --exclude .git --exclude .venv --exclude '.*_cache' --exclude .hypothesis \
        --exclude build --exclude '*.egg-info' --exclude .mutmut-cache "$here/" "$dir/tree/"
    cd "$dir/tree"
    export PYTHONPATH="$dir/tree/plugins"
    "$venv/bin/python" -c 'import outlook_anywhere, sys; sys.exit(0 if outlook_anywhere.__file__.startswith(sys.argv[1]) else 1)' "$dir/tree/plugins" \
        || { echo "mutation: the tests would not import the mutated copy" >"$dir/run.log"; exit 0; }
    tests=$MUTATION_TESTS
    if [ -z "$tests" ]; then
        case $module in
            */check/words/logon.py | */check/words/kerberos.py | */judgement/logon.py \
                | */judgement/kerberos.py) tests="$LOGON_TESTS $ALL_RULES" ;;
            */check/words/frontdoors.py | */judgement/frontdoors.py)
                tests="$FRONTDOOR_TESTS $ALL_RULES" ;;
            */check/words/revocation.py | */judgement/revocation.py)
                tests="$REVOCATION_TESTS $ALL_RULES" ;;
            */check/words/proxy.py | */judgement/proxy.py) tests="$PROXY_TESTS $ALL_RULES" ;;
            */judgement/principal.py)
                tests="tests/test_principal_rules.py tests/test_principal_controls.py $ALL_RULES"
                tests="$tests tests/test_principal.py" ;;
            */transport/auth.py) tests=$AUTH_TESTS ;;
            */transport/rts.py) tests=$RTS_TESTS ;;
            */transport/body.py) tests=$BODY_TESTS ;;
            *) tests=$ALL_RULES ;;
        esac
    fi
    # One run of the tests unmutated, writing the byte code of every module they import (and
    # pytest's rewritten test modules), so that each mutant's run compiles only the module
    # mutated: its byte code is removed, and no run of mutmut's writes byte code, so a mutant
    # is never run from the byte code of another of the same size written the same second.
    PYTHONDONTWRITEBYTECODE= "$venv/bin/python" -m pytest -q -p no:cacheprovider \
        -p no:hypothesispytest -o addopts= $tests >/dev/null 2>&1 || true
    mutated=${module%.py}
    rm -f "$(dirname "$mutated")/__pycache__/$(basename "$mutated")".*.pyc
    export PYTHONDONTWRITEBYTECODE=1
    # No pytest plugin of hypothesis: its start-up would double the time of every run (@given
    # works without it). mutmut 2 takes any exit status but 1 for "the tests pass", and pytest
    # exits 2 when a mutant breaks the import (a collection error): every failure is made a 1.
    # mutmut ends a run that takes ten times as long as without mutants (a mutant that loops
    # forever) by killing this sh, not the pytest under it, and then waits for pytest's output
    # to end: timeout ends pytest too (the mutant is then mutmut's "timeout").
    runner="sh -c 'timeout -s KILL 60 $venv/bin/python -m pytest -x -q -p no:cacheprovider -p no:hypothesispytest -o addopts= $tests || exit 1'"
    "$mutmut" run --paths-to-mutate "$module" --runner "$runner" --tests-dir tests \
        --no-progress --simple-output >"$dir/run.log" 2>&1 || true
    # mutmut 2 mixes up the mutants of two identical lines (two `continue`s of one module): it
    # may leave one untested, or keep its status from a run against other tests. Each such
    # mutant, not killed and not tested against these tests, is tested again on its own.
    for id in $("$venv/bin/python" -c 'import sqlite3
db = sqlite3.connect(".mutmut-cache")
tests = db.execute("select value from MiscData where key = ?", ("hash_of_tests",)).fetchone()[0]
for (mutant,) in db.execute("select id from Mutant where status not in (?, ?) and"
                            " coalesce(tested_against_hash, ?) != ?",
                            ("ok_killed", "ok_suspicious", "", tests)):
    print(mutant)'); do
        "$mutmut" run "$id" --paths-to-mutate "$module" --runner "$runner" --tests-dir tests \
            --no-progress --simple-output >>"$dir/run.log" 2>&1 || true
    done
    "$mutmut" results >"$dir/results.txt" 2>&1 || true
    exit 0
fi

[ -z "${MUTATION_FRESH:-}" ] || rm -rf "$work"
mkdir -p "$work"
start=$(date +%s)
# shellcheck disable=SC2086
printf '%s\n' $MUTATE | xargs -P "$MUTATION_JOBS" -n 1 sh "$0" --one

status=0
for module in $MUTATE; do
    dir=$(copy_of "$module")
    if ! [ -f "$dir/tree/.mutmut-cache" ] \
        || grep -q "Tests don't run cleanly without mutations\|would not import" "$dir/run.log"; then
        echo "mutation: $module: the tests fail without any mutant; see $dir/run.log"
        status=1
    fi
done
[ "$status" -eq 0 ] || exit 1

"$venv/bin/python" - "$work" $MUTATE <<'PY'
import os, sqlite3, sys
work, modules = sys.argv[1], sys.argv[2:]
total_killed = total = 0
for module in modules:
    name = os.path.splitext(module.removeprefix("plugins/outlook_anywhere/"))[0].replace("/", ".")
    db = sqlite3.connect(os.path.join(work, name, "tree", ".mutmut-cache"))
    counts = dict(db.execute("select status, count(*) from Mutant group by status").fetchall())
    n = sum(counts.values())
    # ok_killed and ok_suspicious (killed, slowly) are kills; bad_timeout and bad_survived are not
    killed = counts.get("ok_killed", 0) + counts.get("ok_suspicious", 0)
    total_killed, total = total_killed + killed, total + n
    rest = ", ".join(f"{s} {c}" for s, c in sorted(counts.items()) if s not in ("ok_killed",))
    print(f"mutation: {module}: {killed} of {n} killed ({100 * killed / max(n, 1):.1f} %)"
          + (f" [{rest}]" if rest else ""))
print(f"mutation: total: {total_killed} of {total} mutants killed"
      f" ({100 * total_killed / max(total, 1):.1f} %)")
PY
for module in $MUTATE; do
    dir=$(copy_of "$module")
    echo "survivors of $module ('mutmut show N' in $dir/tree shows one):"
    sed -n '/Survived/,$p' "$dir/results.txt"
done
echo "mutation: $(($(date +%s) - start)) s"
