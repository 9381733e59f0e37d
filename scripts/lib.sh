# Shared helpers of scripts/run.sh and scripts/test.sh: find Odoo 18, prepare the
# virtualenv and PostgreSQL, and build cached template databases.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RF_MODULE="${RF_MODULE:-receivables_followup}"
RF_CACHE="${RF_CACHE:-$HOME/.cache/receivables_followup}"
RF_VENV="${RF_VENV:-$RF_CACHE/venv-py311}"
RF_DATA_DIR="${RF_DATA_DIR:-$RF_CACHE/data}"

log() { printf '\n==> %s\n' "$*"; }
die() {
    local code="$1"
    shift
    printf '%s\n' "$@" >&2
    exit "$code"
}

# Major version of the Odoo tree rooted at $1 (the directory holding odoo/), or "".
odoo_major_version() {
    local release="$1/odoo/release.py"
    [ -f "$release" ] || return 0
    sed -n 's/^version_info = (\([0-9]*\),.*/\1/p' "$release" | head -n 1
}

# Set ODOO_ROOT (directory holding the odoo package) and ODOO_BIN.
# $1: the --odoo-path value, if any. An explicit path never falls back to searching.
find_odoo() {
    local explicit="${1:-${ODOO_PATH:-}}" candidates=() candidate version
    if [ -n "$explicit" ]; then
        candidates=("$explicit")
    else
        local importable
        importable="$(python3 -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null || true)"
        [ -n "$importable" ] && candidates+=("$importable")
        if [ "${RF_ODOO_SEARCH_DEFAULTS:-1}" != "0" ]; then
            candidates+=(/opt/odoo18 /opt/odoo /usr/lib/python3/dist-packages
                "$HOME/odoo18" "$HOME/odoo" "$REPO_ROOT/../odoo18")
        fi
    fi
    for candidate in "${candidates[@]}"; do
        version="$(odoo_major_version "$candidate")"
        if [ "$version" = "18" ]; then
            ODOO_ROOT="$(cd "$candidate" && pwd)"
            if [ -f "$ODOO_ROOT/odoo-bin" ]; then
                ODOO_BIN=("$ODOO_ROOT/odoo-bin")
            else
                ODOO_BIN=(-m odoo)
            fi
            export ODOO_ROOT
            return 0
        elif [ -n "$version" ]; then
            die 3 "Odoo $version found in $candidate, but receivables_followup needs Odoo 18.0." \
                "Point the scripts at an Odoo 18.0 tree (ODOO_PATH or --odoo-path)."
        fi
    done
    die 3 "Odoo 18.0 not found: the Odoo tests cannot run, so this command fails." \
        "" \
        "Provide Odoo 18.0 in one of these ways:" \
        "  - install it so that 'python3 -c \"import odoo\"' works (pip install of an Odoo 18.0 source tree);" \
        "  - set ODOO_PATH=/path/to/odoo18 (the directory holding odoo-bin and the odoo/ package);" \
        "  - pass --odoo-path /path/to/odoo18 to this command." \
        "" \
        "Searched: ${candidates[*]:-(nothing: explicit path given or defaults disabled)}"
}

ensure_system_packages() {
    local wanted=("$@") missing=() pkg
    for pkg in "${wanted[@]}"; do
        command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        log "Installing ${missing[*]} (apt-get)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        printf 'warning: %s missing and cannot be installed here (not root or no apt-get)\n' \
            "${missing[*]}" >&2
    fi
}

ensure_venv() {
    local stamp="$RF_VENV/.requirements.sha256" wanted
    wanted="$(cat "$REPO_ROOT/scripts/requirements-odoo18.txt" "$REPO_ROOT/requirements-test.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -x "$RF_VENV/bin/python" ]; then
        log "Creating the virtualenv $RF_VENV"
        mkdir -p "$(dirname "$RF_VENV")"
        python3 -m venv "$RF_VENV"
    fi
    "$RF_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        die 2 "The virtualenv's Python is too old for Odoo 18 (3.10 or newer needed)."
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        log "Installing Python dependencies into $RF_VENV"
        "$RF_VENV/bin/pip" install -q -r "$REPO_ROOT/scripts/requirements-odoo18.txt" \
            -r "$REPO_ROOT/requirements-test.txt"
        echo "$wanted" >"$stamp"
    fi
    PYTHON="$RF_VENV/bin/python"
    export PYTHON
}

ensure_postgres() {
    if [ "${PGUSER:-$(id -un)}" = "postgres" ]; then
        die 2 "Odoo refuses to connect as the 'postgres' role: set PGUSER to another role."
    fi
    if ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
        if [ "$(id -u)" = "0" ] && command -v pg_lsclusters >/dev/null 2>&1 && [ -z "${PGHOST:-}" ]; then
            local cluster
            cluster="$(pg_lsclusters -h | head -n 1 | awk '{print $1, $2}')"
            if [ -n "$cluster" ]; then
                log "Starting PostgreSQL cluster $cluster"
                # shellcheck disable=SC2086
                pg_ctlcluster $cluster start 2>/dev/null || true
                sleep 2
            fi
            local role="${PGUSER:-$(id -un)}"
            if ! runuser -u postgres -- psql -Atqc "select 1 from pg_roles where rolname='$role'" | grep -q 1; then
                log "Creating PostgreSQL role $role"
                runuser -u postgres -- psql -qc "CREATE ROLE \"$role\" SUPERUSER LOGIN"
            fi
        fi
    fi
    psql -d postgres -Atqc 'select 1' >/dev/null 2>&1 ||
        die 2 "PostgreSQL cannot be reached as role '${PGUSER:-$(id -un)}' (PGHOST='${PGHOST:-socket}', PGPORT='${PGPORT:-5432}')." \
            "Start a server and make the role exist, or set PGHOST/PGPORT/PGUSER/PGPASSWORD."
}

# odoo ARGS...: run Odoo with the project's addons path and data dir.
odoo() {
    local db_args=()
    [ -n "${PGHOST:-}" ] && db_args+=(--db_host "$PGHOST")
    [ -n "${PGPORT:-}" ] && db_args+=(--db_port "$PGPORT")
    [ -n "${PGUSER:-}" ] && db_args+=(--db_user "$PGUSER")
    [ -n "${PGPASSWORD:-}" ] && db_args+=(--db_password "$PGPASSWORD")
    "$PYTHON" "${ODOO_BIN[@]}" \
        --addons-path="$ODOO_ROOT/odoo/addons,$REPO_ROOT" \
        --data-dir="$RF_DATA_DIR" "${db_args[@]}" "$@"
}

db_exists() { psql -d postgres -Atqc "select 1 from pg_database where datname='$1'" | grep -q 1; }

drop_db() {
    dropdb --if-exists "$1" >/dev/null 2>&1 || true
    rm -rf "$RF_DATA_DIR/filestore/$1"
}

# ensure_template_db MODULES DEMO(yes|no): echo the name of a cached database with
# MODULES installed, building it the first time.
ensure_template_db() {
    local modules="$1" demo="$2" key name demo_args=()
    key="$(printf '%s|%s|%s|%s' "$ODOO_ROOT" "$(sed -n 's/^version_info = //p' "$ODOO_ROOT/odoo/release.py")" "$modules" "$demo" | sha256sum | cut -c1-10)"
    name="rf_tpl_${demo}_${key}"
    if ! db_exists "$name"; then
        [ "$demo" = "no" ] && demo_args=(--without-demo=all)
        log "Building template database $name ($modules, demo: $demo) - once per machine" >&2
        if ! odoo -d "$name" -i "$modules" "${demo_args[@]}" --stop-after-init \
            --log-level=warn --http-port="$(free_port)" >"$RF_CACHE/$name.log" 2>&1; then
            drop_db "$name"
            die 2 "Building the template database $name failed; see $RF_CACHE/$name.log"
        fi
    fi
    echo "$name"
}

# create_db_from_template TEMPLATE NAME
create_db_from_template() {
    drop_db "$2"
    createdb -T "$1" "$2"
    if [ -d "$RF_DATA_DIR/filestore/$1" ]; then
        mkdir -p "$RF_DATA_DIR/filestore"
        cp -r "$RF_DATA_DIR/filestore/$1" "$RF_DATA_DIR/filestore/$2"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
