#!/usr/bin/env bash
# Run the product: a throwaway database with receivables_followup and its demo data
# (customers in France and elsewhere, invoices in every overdue stage, two currencies),
# served on http://localhost:8069.
#
# Options: --odoo-path PATH   the Odoo 18.0 tree (see scripts/test.sh)
#          --db NAME          database name (default rf_demo_<timestamp>; dropped first)
#          --port PORT        HTTP port (default 8069)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

odoo_path="" db="rf_demo_$(date +%Y%m%d_%H%M%S)" port=8069
while [ $# -gt 0 ]; do
    case "$1" in
    --odoo-path) odoo_path="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    *) die 2 "unknown option: $1" ;;
    esac
done

find_odoo "$odoo_path"
ensure_system_packages wkhtmltopdf
ensure_venv
ensure_postgres
mkdir -p "$RF_DATA_DIR"

log "Creating database $db with $RF_MODULE and demo data"
drop_db "$db"
odoo -d "$db" -i "$RF_MODULE" --stop-after-init --log-level=warn --http-port="$port"

cat <<MSG

  Odoo is running on http://localhost:$port
  login: admin   password: admin   database: $db
  Follow-up: Invoicing > Customers > Follow-up

MSG
exec "$PYTHON" "${ODOO_BIN[@]}" --addons-path="$ODOO_ROOT/odoo/addons,$REPO_ROOT" \
    --data-dir="$RF_DATA_DIR" -d "$db" --db-filter="^$db\$" --http-port="$port"
