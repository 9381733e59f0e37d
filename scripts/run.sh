#!/usr/bin/env bash
# Run the product: a throwaway database with receivables_followup and its demo data
# (customers in France and elsewhere, invoices in every overdue stage, two currencies),
# served on http://localhost:8069 (login admin, password admin), with the agency
# sandbox (a local Debitura Customer API) as the demo collection agency.
#
# Options: --odoo-path PATH   the Odoo 18.0 tree (see scripts/test.sh --help)
#          --db NAME          database name (default rf_demo_<timestamp>; dropped first)
#          --port PORT        HTTP port (default 8069)
# Variables: ODOO_PATH, RF_ODOO_SEARCH_DEFAULTS=0, RF_VENV, RF_DATA_DIR,
#            PGHOST/PGPORT/PGUSER/PGPASSWORD.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; }

odoo_path="" db="rf_demo_$(date +%Y%m%d_%H%M%S)" port=8069
while [ $# -gt 0 ]; do
    case "$1" in
    --odoo-path | --db | --port) [ -n "${2:-}" ] || die 2 "$1 needs a value" ;;&
    --odoo-path) odoo_path="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die 2 "unknown option: $1 (see --help)" ;;
    esac
done
[[ "$db" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || die 2 "invalid database name: $db"
[[ "$port" =~ ^[0-9]+$ ]] || die 2 "invalid port: $port"

find_odoo "$odoo_path"
ensure_system_packages wkhtmltopdf pdftotext:poppler-utils
ensure_venv
ensure_postgres
mkdir -p "$RF_DATA_DIR"
port_free "$port" || die 2 "Port $port is already in use: stop what listens there, or pass --port."

template="$(ensure_template_db "account,portal,payment_demo,account_qr_code_sepa,l10n_fr_account" yes)"
log "Creating database $db with $RF_MODULE and its demo data"
create_db_from_template "$template" "$db" || die 2 "Creating the database $db failed."
odoo -d "$db" -i "$RF_MODULE" --stop-after-init --log-level=warn --http-port="$port" \
    --workers=0 --max-cron-threads=0

# The demo collection agency: the sandbox of Debitura's API, on its own port, with
# its state next to the database's data; the demo agency record points at it.
sandbox_port=8899
port_free "$sandbox_port" || sandbox_port="$(free_port)"
sandbox_url="http://127.0.0.1:$sandbox_port"
"$RF_VENV/bin/python" -m agency_sandbox --port "$sandbox_port" \
    --db "$RF_DATA_DIR/agency_sandbox_$db.sqlite" --api-key sandbox-api-key \
    >"$RF_DATA_DIR/agency_sandbox_$db.log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
psql -q -d "$db" -c "UPDATE followup_agency SET base_url = '$sandbox_url' WHERE base_url LIKE 'http://127.0.0.1:%'"

cat <<MSG

Odoo is running on http://localhost:$port — login: admin / password: admin — database: $db
  Follow-up: Invoicing > Customers > Follow-up.   Stop with Ctrl-C.
  Demo collection agency: the Debitura sandbox on $sandbox_url (test mode).

MSG
# -d alone, no --db-filter: Odoo serves that one database without listing the
# server's for each request (the agency callbacks carry no session)
odoo_cmd -d "$db" --http-port="$port"
"${ODOO_CMD[@]}"
