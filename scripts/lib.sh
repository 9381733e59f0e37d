# Shared helpers of scripts/run.sh and scripts/test.sh: find Odoo 18, prepare the
# virtualenv and PostgreSQL, and build cached template databases.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# CI may start the commands with an empty environment.
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
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

# Set ODOO_ROOT (directory holding the odoo package) and ODOO_BIN (an array: odoo-bin, or
# "-m odoo" for an installed package), and export ODOO_ROOT and ODOO_BIN_PATH.
# $1: the --odoo-path value, if any; else ODOO_PATH; else an importable odoo, then the
# default locations (unless RF_ODOO_SEARCH_DEFAULTS=0). An explicit path (option or
# variable) is the only candidate: it never falls back to searching.
find_odoo() {
    local explicit="${1:-${ODOO_PATH:-}}" candidates=() candidate version others=()
    if [ -n "$explicit" ]; then
        candidates=("$explicit")
    else
        local importable
        importable="$(python3 -c 'import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))' 2>/dev/null || true)"
        if [ -n "$importable" ]; then
            candidates+=("$importable")
        else
            others+=("no importable odoo package for $(command -v python3 || echo python3)")
        fi
        if [ "${RF_ODOO_SEARCH_DEFAULTS:-1}" != "0" ]; then
            candidates+=(/opt/odoo18 /opt/odoo /usr/lib/python3/dist-packages
                "$HOME/odoo18" "$HOME/odoo" "$(dirname "$REPO_ROOT")/odoo18")
        fi
    fi
    for candidate in "${candidates[@]}"; do
        version="$(odoo_major_version "$candidate")"
        if [ "$version" = "18" ]; then
            ODOO_ROOT="$(cd "$candidate" && pwd)"
            if [ -f "$ODOO_ROOT/odoo-bin" ]; then
                ODOO_BIN=("$ODOO_ROOT/odoo-bin")
                ODOO_BIN_PATH="$ODOO_ROOT/odoo-bin"
            else
                ODOO_BIN=(-m odoo)
                ODOO_BIN_PATH=""
            fi
            export ODOO_ROOT ODOO_BIN_PATH
            return 0
        elif [ -n "$version" ]; then
            # A tree of another version given explicitly is an error on its own; met
            # while searching, it is skipped (an Odoo 18 may come later) and reported.
            [ -n "$explicit" ] &&
                die 3 "Odoo $version found in $candidate, but receivables_followup needs Odoo 18.0." \
                    "Point the scripts at an Odoo 18.0 tree (ODOO_PATH or --odoo-path)."
            others+=("Odoo $version in $candidate (not 18.0)")
        fi
    done
    local searched="${candidates[*]:-(no directory: the default locations are disabled by RF_ODOO_SEARCH_DEFAULTS=0)}"
    die 3 "Odoo 18.0 not found: the Odoo tests cannot run, so this command fails." \
        "" \
        "Provide Odoo 18.0 in one of these ways:" \
        "  - install it so that 'python3 -c \"import odoo\"' works (pip install of an Odoo 18.0 source tree);" \
        "  - set ODOO_PATH=/path/to/odoo18 (the directory holding odoo-bin and the odoo/ package);" \
        "  - pass --odoo-path /path/to/odoo18 to this command." \
        "" \
        "Searched: $searched" \
        ${others[@]+"Notes: $(IFS=';'; echo "${others[*]}")"}
}

# ensure_system_packages COMMAND[:PACKAGE]...: install the Debian packages of the missing
# commands (the package is named after the command unless given) with apt-get (as root),
# else warn.
ensure_system_packages() {
    local wanted=("$@") missing=() item
    for item in "${wanted[@]}"; do
        command -v "${item%%:*}" >/dev/null 2>&1 || missing+=("${item#*:}")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        log "Installing ${missing[*]} (apt-get)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } \
            >"${TMPDIR:-/tmp}/rf-apt.log" 2>&1; then
            printf 'warning: apt-get could not install %s (see %s)\n' \
                "${missing[*]}" "${TMPDIR:-/tmp}/rf-apt.log" >&2
        fi
    else
        printf 'warning: %s missing and cannot be installed here (not root or no apt-get)\n' \
            "${missing[*]}" >&2
    fi
}

# The Python that creates the virtualenv: RF_PYTHON3, else python3 when it is 3.10+,
# else python3.11 or python3.12.
venv_base_python() {
    local py
    for py in ${RF_PYTHON3:-} python3 python3.11 python3.12; do
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$py"
            return 0
        fi
    done
    die 2 "No Python 3.10+ found to create $RF_VENV (Odoo 18 needs 3.10 or newer; 3.11 is the tested one)." \
        "Install python3.11 (and python3.11-venv), or set RF_PYTHON3=/path/to/python3.11."
}

# ensure_venv: the virtualenv RF_VENV with Odoo's pinned dependencies and the test tools.
# A stamp holds the sha256 of the requirement files: when it matches, pip is not run.
ensure_venv() {
    local stamp="$RF_VENV/.requirements.sha256" wanted pip_log
    wanted="$(cat "$REPO_ROOT/scripts/requirements-odoo18.txt" "$REPO_ROOT/requirements-test.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -x "$RF_VENV/bin/python" ]; then
        local base
        base="$(venv_base_python)" || exit 2
        log "Creating the virtualenv $RF_VENV ($("$base" --version 2>&1))"
        mkdir -p "$(dirname "$RF_VENV")"
        "$base" -m venv "$RF_VENV" ||
            die 2 "Creating the virtualenv $RF_VENV failed (on Debian: apt-get install python3-venv)."
    fi
    "$RF_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
        die 2 "The virtualenv $RF_VENV runs $("$RF_VENV/bin/python" --version 2>&1): Odoo 18 needs 3.10 or newer." \
            "Remove it, or set RF_VENV to another path, and run again."
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
        log "Installing Python dependencies into $RF_VENV"
        pip_log="$RF_VENV/pip-install.log"
        # The machine's pip configuration may list local indexes that do not exist;
        # pip warns once per package about them: show its real errors only.
        if ! "$RF_VENV/bin/pip" install -q --disable-pip-version-check \
            -r "$REPO_ROOT/scripts/requirements-odoo18.txt" \
            -r "$REPO_ROOT/requirements-test.txt" >"$pip_log" 2>&1; then
            grep -v 'is ignored: it is neither' "$pip_log" >&2
            die 2 "Installing the Python dependencies into $RF_VENV failed (log: $pip_log)."
        fi
        "$RF_VENV/bin/python" -c 'import psycopg2, lxml, werkzeug, pytest' ||
            die 2 "The Python dependencies in $RF_VENV do not import (log: $pip_log)."
        echo "$wanted" >"$stamp"
    fi
    PYTHON="$RF_VENV/bin/python"
    export PYTHON
}

pg_reachable() { psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; }

# ensure_postgres: PostgreSQL answers as the current role (PGHOST/PGPORT/PGUSER honoured).
# As root on Debian (local socket), start the cluster on PGPORT (else the first one
# listed by pg_lsclusters) and create a superuser role for the current user when needed.
ensure_postgres() {
    local role="${PGUSER:-$(id -un)}"
    if [ "$role" = "postgres" ]; then
        die 2 "Odoo refuses to connect as the 'postgres' role: set PGUSER to another role," \
            "or run as another user (as root, the scripts create a role named after the user)."
    fi
    if ! pg_reachable && [ "$(id -u)" = "0" ] && [ -z "${PGHOST:-}" ] &&
        command -v pg_lsclusters >/dev/null 2>&1; then
        local version name cport tries
        read -r version name cport < <(pg_lsclusters -h |
            awk -v port="${PGPORT:-5432}" '$3 == port {print $1, $2, $3; exit}')
        [ -n "${version:-}" ] || read -r version name cport < <(pg_lsclusters -h | head -n 1)
        if [ -n "${version:-}" ]; then
            if ! runuser -u postgres -- pg_isready -q -p "$cport" 2>/dev/null; then
                log "Starting PostgreSQL cluster $version $name (port $cport)"
                pg_ctlcluster "$version" "$name" start || true
                for tries in $(seq 30); do
                    runuser -u postgres -- pg_isready -q -p "$cport" 2>/dev/null && break
                    [ "$tries" = 30 ] || sleep 1
                done
            fi
            if ! runuser -u postgres -- psql -p "$cport" -Atqc \
                "select 1 from pg_roles where rolname='$role'" 2>/dev/null | grep -q 1; then
                log "Creating PostgreSQL role $role (superuser)"
                runuser -u postgres -- psql -p "$cport" -qc "CREATE ROLE \"$role\" SUPERUSER LOGIN" || true
            fi
        fi
    fi
    local reason
    reason="$(psql -d postgres -Atqc 'select 1' 2>&1 >/dev/null)" ||
        die 2 "PostgreSQL cannot be reached as role '$role' (PGHOST='${PGHOST:-local socket}', PGPORT='${PGPORT:-5432}'):" \
            "  ${reason:-psql failed}" \
            "Start a server and make the role exist (superuser, or allowed to create databases)," \
            "or set PGHOST/PGPORT/PGUSER/PGPASSWORD. As root on Debian the scripts do it themselves."
}

# odoo_cmd ARGS...: set the array ODOO_CMD to the Odoo command line with the project's
# addons path, data dir and PostgreSQL options (PGHOST/PGPORT/PGUSER/PGPASSWORD), then ARGS.
odoo_cmd() {
    ODOO_CMD=()
    if [ -z "${ODOO_BIN_PATH:-}" ]; then
        # "python -m odoo" with an odoo package found outside the virtualenv: expose that
        # package alone (not its whole site-packages, whose versions would shadow the pins).
        local shim="$RF_CACHE/odoo-import"
        mkdir -p "$shim" && ln -sfn "$ODOO_ROOT/odoo" "$shim/odoo"
        ODOO_CMD=(env "PYTHONPATH=$shim${PYTHONPATH:+:$PYTHONPATH}")
    fi
    ODOO_CMD+=("$PYTHON" "${ODOO_BIN[@]}"
        --addons-path="$ODOO_ROOT/odoo/addons,$REPO_ROOT" --data-dir="$RF_DATA_DIR")
    [ -n "${PGHOST:-}" ] && ODOO_CMD+=(--db_host "$PGHOST")
    [ -n "${PGPORT:-}" ] && ODOO_CMD+=(--db_port "$PGPORT")
    [ -n "${PGUSER:-}" ] && ODOO_CMD+=(--db_user "$PGUSER")
    [ -n "${PGPASSWORD:-}" ] && ODOO_CMD+=(--db_password "$PGPASSWORD")
    ODOO_CMD+=("$@")
}

# odoo ARGS...: run Odoo (see odoo_cmd).
odoo() {
    odoo_cmd "$@"
    "${ODOO_CMD[@]}"
}

db_exists() { psql -d postgres -Atqc "select 1 from pg_database where datname='$1'" | grep -q 1; }

drop_db() {
    dropdb --if-exists "$1" >/dev/null 2>&1 || true
    rm -rf "${RF_DATA_DIR:?}/filestore/$1"
}

# ensure_template_db MODULES DEMO(yes|no): echo the name of a cached database with
# MODULES installed (with or without demo data), building it the first time. The name
# holds a hash of the Odoo tree, its version and the arguments, so that a change builds a
# new one. It is built under a temporary name and renamed when complete: an interrupted or
# failed build is never reused. A lock serialises concurrent runs.
ensure_template_db() {
    local modules="$1" demo="$2" key name demo_args=() lock
    key="$(printf '%s|%s|%s|%s' "$ODOO_ROOT" "$(sed -n 's/^version_info = //p' "$ODOO_ROOT/odoo/release.py")" "$modules" "$demo" | sha256sum | cut -c1-10)"
    name="rf_tpl_${demo}_${key}"
    mkdir -p "$RF_CACHE"
    exec {lock}>"$RF_CACHE/$name.lock"
    flock "$lock"
    if ! db_exists "$name"; then
        local building="${name}_building"
        drop_db "$building"
        [ "$demo" = "no" ] && demo_args=(--without-demo=all)
        log "Building template database $name ($modules, demo: $demo) - once per machine" >&2
        if ! odoo -d "$building" -i "$modules" "${demo_args[@]}" --stop-after-init \
            --log-level=warn --http-port="$(free_port)" --workers=0 --max-cron-threads=0 \
            >"$RF_CACHE/$name.log" 2>&1 ||
            grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$RF_CACHE/$name.log"; then
            drop_db "$building"
            tail -n 30 "$RF_CACHE/$name.log" >&2
            die 2 "Building the template database $name failed; see $RF_CACHE/$name.log"
        fi
        local wanted installed
        wanted="$(tr ',' '\n' <<<"$modules" | sed "s/.*/'&'/" | paste -sd, -)"
        installed="$(psql -d "$building" -Atqc "select count(*) from ir_module_module where state = 'installed' and name in ($wanted)" 2>/dev/null)"
        if [ "$installed" != "$(tr ',' '\n' <<<"$modules" | wc -l)" ]; then
            drop_db "$building"
            die 2 "Building the template database $name left some of $modules uninstalled; see $RF_CACHE/$name.log"
        fi
        psql -d postgres -qc "ALTER DATABASE \"$building\" RENAME TO \"$name\"" ||
            die 2 "Renaming the template database $building to $name failed."
        if [ -d "$RF_DATA_DIR/filestore/$building" ]; then
            mv "$RF_DATA_DIR/filestore/$building" "$RF_DATA_DIR/filestore/$name"
        fi
    fi
    exec {lock}>&-
    echo "$name"
}

# create_db_from_template TEMPLATE NAME: NAME (dropped first) as a copy of TEMPLATE,
# database and filestore.
create_db_from_template() {
    drop_db "$2"
    createdb -T "$1" "$2" || return 1
    if [ -d "$RF_DATA_DIR/filestore/$1" ]; then
        mkdir -p "$RF_DATA_DIR/filestore"
        cp -r "$RF_DATA_DIR/filestore/$1" "$RF_DATA_DIR/filestore/$2"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# port_free PORT: true when nothing listens on PORT.
port_free() {
    python3 -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null
}
