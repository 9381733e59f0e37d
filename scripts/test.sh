#!/usr/bin/env bash
# Run every test of receivables_followup: the addon's Odoo tests inside a real Odoo 18 on
# PostgreSQL (without and with demo data), the root tests/ suites, and the linters.
# Ends with one line "N passed, M failed"; exits non-zero on any failure, and with 3 when
# Odoo 18.0 cannot be found (the Odoo tests are never skipped).
#
# Options: --odoo-path PATH   the Odoo 18.0 tree (else ODOO_PATH, an importable odoo,
#                             or /opt/odoo18, /opt/odoo, ~/odoo18 ...)
#          --keep-db          keep the test databases
#          --skip-lint        local iterations only; CI never skips
#          --tags TAGS        restrict the Odoo tests (e.g. /receivables_followup:TestInstall);
#                             the demo-data run is then left out
# Variables: ODOO_PATH, RF_ODOO_SEARCH_DEFAULTS=0, RF_VENV, RF_DATA_DIR, RF_CACHE,
#            RF_MODULE (the addon under test), PGHOST/PGPORT/PGUSER/PGPASSWORD.
# Logs: .test-output/<stage>.log; files the Odoo tests write (the access matrix):
#       .test-output/<stage>/
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage() { sed -n '2,17s/^# \{0,1\}//p' "$0"; }

odoo_path="" keep_db=0 skip_lint=0 tags="/$RF_MODULE"
while [ $# -gt 0 ]; do
    case "$1" in
    --odoo-path | --tags) [ -n "${2:-}" ] || die 2 "$1 needs a value" ;;&
    --odoo-path) odoo_path="$2"; shift 2 ;;
    --keep-db) keep_db=1; shift ;;
    --skip-lint) skip_lint=1; shift ;;
    --tags) tags="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die 2 "unknown option: $1 (see --help)" ;;
    esac
done

log "Locating Odoo 18.0"
find_odoo "$odoo_path"
echo "Odoo 18.0: $ODOO_ROOT"

log "Preparing the machine: system packages, virtualenv, PostgreSQL"
ensure_system_packages chromium wkhtmltopdf pdftotext:poppler-utils
ensure_venv
ensure_postgres
mkdir -p "$RF_DATA_DIR" "$RF_CACHE"

OUT="$REPO_ROOT/.test-output"
rm -rf "$OUT" && mkdir -p "$OUT"
TEST_DBS=()
cleanup() {
    [ "$keep_db" = 1 ] && return
    local db
    for db in "${TEST_DBS[@]}"; do drop_db "$db"; done
}
trap cleanup EXIT

total_passed=0 total_failed=0
STAGES=()
record() { # record STAGE PASSED FAILED [NOTE]
    total_passed=$((total_passed + $2))
    total_failed=$((total_failed + $3))
    STAGES+=("$(printf '%-24s %5s passed %5s failed  %s' "$1" "$2" "$3" "${4:-}")")
}

# Counts in an Odoo test log: "RAN FAILED SKIPPED LOGGED_ERRORS". Odoo ends a test run with
# "odoo.tests.result: F failed, E error(s) of N tests when loading database 'db'".
parse_odoo_log() {
    python3 - "$1" <<'PY'
import re, sys
ran = failed = skipped = logged_errors = 0
prefix = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ "
for line in open(sys.argv[1], errors="replace"):
    match = re.search(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", line)
    if match:
        failed += int(match[1]) + int(match[2])
        ran += int(match[3])
    if re.match(prefix + r"INFO \S+ \S+: skipped ", line):
        skipped += 1
    if re.match(prefix + r"(ERROR|CRITICAL) ", line):
        logged_errors += 1
print(ran, failed, skipped, logged_errors)
PY
}

# run_odoo_tests STAGE TEMPLATE_MODULES DEMO(yes|no) TAGS
run_odoo_tests() {
    local stage="$1" modules="$2" demo="$3" stage_tags="$4" template db logfile demo_args=()
    log "Odoo tests ($stage): $stage_tags, demo data: $demo"
    template="$(ensure_template_db "$modules" "$demo")" || exit 2
    db="rf_test_${stage//-/_}_$$"
    TEST_DBS+=("$db")
    if ! create_db_from_template "$template" "$db"; then
        echo "Stage $stage: could not create $db from $template." >&2
        record "odoo:$stage" 0 1 "database not created"
        return
    fi
    [ "$demo" = "no" ] && demo_args=(--without-demo=all)
    logfile="$OUT/$stage.log"
    # files the tests write for the record (the access matrix) stay with the logs
    local test_output="$OUT/$stage"
    mkdir -p "$test_output"
    echo "Installing $RF_MODULE in $db; full log: $logfile; test files: $test_output"
    ODOO_TEST_OUTPUT="$test_output" odoo -d "$db" -i "$RF_MODULE" "${demo_args[@]}" --test-enable \
        --test-tags "$stage_tags" --stop-after-init --log-level=test \
        --screenshots="$OUT/screenshots" \
        --http-port="$(free_port)" --workers=0 --max-cron-threads=0 2>&1 | tee "$logfile" |
        grep -E --line-buffered ' (ERROR|CRITICAL|WARNING) |tests\.result|Starting .*Test' || true
    local rc="${PIPESTATUS[0]}" ran failed skipped logged_errors note=""
    read -r ran failed skipped logged_errors < <(parse_odoo_log "$logfile")
    if [ "$ran" -eq 0 ]; then
        echo "Stage $stage: no Odoo test ran (Odoo exited $rc): the install failed or the" \
            "module's tests were not collected for '$stage_tags'. See $logfile." >&2
        record "odoo:$stage" 0 1 "no test ran"
        return
    fi
    if [ "$failed" -eq 0 ] && { [ "$rc" -ne 0 ] || [ "$logged_errors" -gt 0 ]; }; then
        echo "Stage $stage: Odoo exited $rc with $logged_errors ERROR/CRITICAL log lines outside the failed tests." >&2
        failed=1
    fi
    if [ "$failed" -gt 0 ]; then
        grep -E ': (FAIL|ERROR): ' "$logfile" >&2
        echo "Stage $stage failed; see $logfile" >&2
    fi
    [ "$skipped" -gt 0 ] && note="$skipped skipped"
    local passed=$((ran - failed - skipped))
    record "odoo:$stage" $((passed > 0 ? passed : 0)) "$failed" "$note"
}

run_odoo_tests "no-demo" "account,portal,sms,payment_demo,account_qr_code_sepa" no "$tags"
if [ "$tags" = "/$RF_MODULE" ]; then
    run_odoo_tests "demo" "account,portal,payment_demo,account_qr_code_sepa,l10n_fr_account" yes "${RF_MODULE}_demo"
fi

log "Root test suites (pytest tests/)"
if compgen -G "tests/test_*.py" >/dev/null || compgen -G "tests/*_test.py" >/dev/null; then
    # The suites start the commands themselves: give them this Odoo, this virtualenv,
    # a prefix for the databases they create and the no-demo template database to
    # copy rather than installing the accounting from scratch.
    pytest_template="$(ensure_template_db "account,portal,sms,payment_demo,account_qr_code_sepa" no)" || exit 2
    env ODOO_PATH="$ODOO_ROOT" ODOO_ROOT="$ODOO_ROOT" ODOO_BIN="$ODOO_BIN_PATH" \
        RF_VENV="$RF_VENV" RF_PYTHON="$PYTHON" RF_DATA_DIR="$RF_DATA_DIR" \
        RF_DB_PREFIX="rf_pytest_$$_" RF_TEMPLATE_DB="$pytest_template" \
        "$PYTHON" -m pytest -q tests --junitxml="$OUT/pytest.xml" 2>&1 | tee "$OUT/pytest.log"
    pytest_rc="${PIPESTATUS[0]}"
    read -r passed failed < <(python3 - "$OUT/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - bad - skipped, bad)
PY
)
    note=""
    if [ "$pytest_rc" -eq 5 ]; then
        # Exit code 5: nothing collected although tests/ has test files.
        echo "pytest collected no test from tests/ although it has test files." >&2
        failed=$((failed > 0 ? failed : 1)) note="nothing collected"
    elif [ "$pytest_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        echo "pytest exited $pytest_rc without a failed test; see $OUT/pytest.log" >&2
        failed=1 note="pytest exited $pytest_rc"
    fi
    record "pytest:tests/" "$passed" "$failed" "$note"
else
    echo "No test file in tests/: nothing to run."
fi

if [ "$skip_lint" = 0 ]; then
    lint() { # lint NAME COMMAND...
        local name="$1"
        shift
        log "Lint: $name"
        if "$@" >"$OUT/lint-$name.log" 2>&1; then
            record "lint:$name" 1 0
        else
            cat "$OUT/lint-$name.log"
            record "lint:$name" 0 1
        fi
    }
    lint_paths=()
    for path in "$RF_MODULE" agency_sandbox tests bench; do
        [ -e "$path" ] && lint_paths+=("$path")
    done
    lint ruff "$RF_VENV/bin/ruff" check "${lint_paths[@]}"
    lint ruff-format "$RF_VENV/bin/ruff" format --check "${lint_paths[@]}"
    lint pylint-odoo "$RF_VENV/bin/pylint" --rcfile=.pylintrc "$RF_MODULE"
else
    log "Linters skipped (--skip-lint)"
fi

log "Summary"
printf '%s\n' "${STAGES[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
