#!/usr/bin/env bash
# Run every test of receivables_followup: the addon's Odoo tests inside a real Odoo 18 on
# PostgreSQL (without and with demo data), the root tests/ suites, and the linters.
# Ends with one line "N passed, M failed"; exits non-zero on any failure.
#
# Options: --odoo-path PATH   the Odoo 18.0 tree (else ODOO_PATH, an importable odoo,
#                             or /opt/odoo18, /opt/odoo, ~/odoo18 ...)
#          --keep-db          keep the test databases
#          --skip-lint        local iterations only; CI never skips
#          --tags TAGS        restrict the Odoo tests (e.g. /receivables_followup:TestInstall)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

odoo_path="" keep_db=0 skip_lint=0 tags="/$RF_MODULE"
while [ $# -gt 0 ]; do
    case "$1" in
    --odoo-path) odoo_path="$2"; shift 2 ;;
    --keep-db) keep_db=1; shift ;;
    --skip-lint) skip_lint=1; shift ;;
    --tags) tags="$2"; shift 2 ;;
    *) die 2 "unknown option: $1" ;;
    esac
done

log "Locating Odoo 18.0"
find_odoo "$odoo_path"
echo "Odoo 18.0: $ODOO_ROOT"

ensure_system_packages chromium wkhtmltopdf
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
record() { # record STAGE PASSED FAILED
    total_passed=$((total_passed + $2))
    total_failed=$((total_failed + $3))
    STAGES+=("$(printf '%-28s %5s passed %5s failed' "$1" "$2" "$3")")
}

# run_odoo_tests STAGE TEMPLATE_MODULES DEMO TAGS
run_odoo_tests() {
    local stage="$1" modules="$2" demo="$3" stage_tags="$4" template db logfile demo_args=()
    template="$(ensure_template_db "$modules" "$demo")" || exit 2
    db="rf_test_${stage//-/_}_$$"
    TEST_DBS+=("$db")
    create_db_from_template "$template" "$db"
    [ "$demo" = "no" ] && demo_args=(--without-demo=all)
    logfile="$OUT/$stage.log"
    log "Odoo tests ($stage): installing $RF_MODULE in $db and running $stage_tags"
    odoo -d "$db" -i "$RF_MODULE" "${demo_args[@]}" --test-enable \
        --test-tags "$stage_tags" --stop-after-init --log-level=test \
        --http-port="$(free_port)" --workers=0 --max-cron-threads=0 2>&1 | tee "$logfile" |
        grep -E --line-buffered ' (ERROR|CRITICAL|WARNING) |tests\.result|Starting .*Test' || true
    local rc="${PIPESTATUS[0]}"
    read -r ran failed < <(python3 - "$logfile" <<'PY'
import re, sys
ran = failed = 0
for line in open(sys.argv[1], errors="replace"):
    match = re.search(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests", line)
    if match:
        failed += int(match[1]) + int(match[2])
        ran += int(match[3])
print(ran, failed)
PY
)
    local logged_errors
    logged_errors="$(grep -cE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logfile" || true)"
    if [ "$ran" -eq 0 ]; then
        echo "No Odoo test ran in stage $stage: the module's tests were not collected." >&2
        record "odoo:$stage" 0 1
        return
    fi
    if [ "$failed" -eq 0 ] && { [ "$rc" -ne 0 ] || [ "$logged_errors" -gt 0 ]; }; then
        echo "Stage $stage: Odoo exited $rc with $logged_errors error lines outside tests." >&2
        failed=1
    fi
    record "odoo:$stage" $((ran - failed > 0 ? ran - failed : 0)) "$failed"
}

run_odoo_tests "no-demo" "account,portal,sms" no "$tags"
if [ "$tags" = "/$RF_MODULE" ]; then
    run_odoo_tests "demo" "account,portal" yes "receivables_followup_demo"
fi

log "Root test suites (pytest tests/)"
if compgen -G "tests/test_*.py" >/dev/null; then
    ODOO_ROOT="$ODOO_ROOT" RF_PYTHON="$PYTHON" "$PYTHON" -m pytest -q tests \
        --junitxml="$OUT/pytest.xml" 2>&1 | tee "$OUT/pytest.log"
    read -r passed failed < <(python3 - "$OUT/pytest.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 1)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - bad - skipped, bad)
PY
)
    record "pytest:tests/" "$passed" "$failed"
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
    lint ruff "$RF_VENV/bin/ruff" check "$RF_MODULE" tests bench
    lint ruff-format "$RF_VENV/bin/ruff" format --check "$RF_MODULE" tests bench
    lint pylint-odoo "$RF_VENV/bin/pylint" --rcfile=.pylintrc "$RF_MODULE"
fi

log "Summary"
printf '%s\n' "${STAGES[@]}"
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
