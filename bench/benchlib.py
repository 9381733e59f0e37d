"""What every benchmark driver shares (``bench_followup_run.py``, the drivers of
``bench/workers``, ``bench/webhooks``, ``bench/handoff``, ...): finding Odoo and
the addon to measure, the databases (templates, copies, generated data), the
Odoo processes that run the workers, and the common command-line options.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from followup_worker import RESULT_PREFIX

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
MODULE = "receivables_followup"
WORK_DIR = Path(os.environ.get("RF_BENCH_DIR", "/tmp/rf_bench"))
PROJECT_VENV_PYTHON = Path.home() / ".cache/receivables_followup/venv-py311/bin/python"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------
# Discovery
# ----------------------------------------------------------------------
def default_python():
    for candidate in (PROJECT_VENV_PYTHON, Path("/tmp/venvtest/bin/python")):
        if candidate.exists():
            return str(candidate)
    return sys.executable


def odoo_major(root):
    release = Path(root) / "odoo" / "release.py"
    if not release.is_file():
        return None
    match = re.search(r"^version_info = \((\d+),", release.read_text(), re.M)
    return int(match.group(1)) if match else None


def find_odoo(explicit, python):
    """The directory holding the odoo package: the same order as scripts/lib.sh."""
    candidates = [explicit] if explicit else []
    if not explicit:
        if os.environ.get("ODOO_PATH"):
            candidates.append(os.environ["ODOO_PATH"])
        found = subprocess.run(
            [
                python,
                "-c",
                "import odoo, os; print(os.path.dirname("
                "os.path.dirname(odoo.__file__)))",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        candidates += [found] if found else []
        candidates += ["/opt/odoo18", "/opt/odoo", str(Path.home() / "odoo18")]
    for candidate in candidates:
        if candidate and odoo_major(candidate) == 18:
            return str(Path(candidate).resolve())
    sys.exit(
        f"Odoo 18.0 not found (searched: {', '.join(candidates)}); "
        "use --odoo-path or ODOO_PATH."
    )


def addon_source(ref):
    """(directory holding the addon, description): the working tree, or a commit
    exported with git archive (others edit the working tree while we measure)."""
    if ref == "worktree":
        return REPO_ROOT, "working tree"
    sha = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = WORK_DIR / "src" / sha[:12]
    if not (target / MODULE / "__manifest__.py").is_file():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", sha, MODULE],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, f"commit {sha[:12]} ({ref})"


def addon_hash(odoo, base_template):
    digest = hashlib.sha256(f"{odoo.odoo_path}|{base_template}".encode())
    digest.update((Path(odoo.odoo_path) / "odoo" / "release.py").read_bytes())
    digest.update((BENCH_DIR / "followup_worker.py").read_bytes())
    for path in sorted((odoo.addon_root / MODULE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(odoo.addon_root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


# ----------------------------------------------------------------------
# Databases and Odoo processes
# ----------------------------------------------------------------------
def psql(sql, db="postgres"):
    return subprocess.run(
        ["psql", "-d", db, "-Atqc", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


def db_exists(name):
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def drop_db(name):
    subprocess.run(["dropdb", "--if-exists", name], capture_output=True, check=False)
    shutil.rmtree(WORK_DIR / "data" / "filestore" / name, ignore_errors=True)


def copy_db(template, name):
    """createdb -T, retried while someone else is connected to the template."""
    drop_db(name)
    for attempt in range(30):
        done = subprocess.run(
            ["createdb", "-T", template, name],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0:
            return
        if "being accessed by other users" not in done.stderr or attempt == 29:
            sys.exit(f"createdb -T {template} {name} failed: {done.stderr.strip()}")
        time.sleep(2)


def bench_result(out, what):
    """The figures a worker printed on ``out``."""
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"{what} printed no result:\n{out[-2000:]}")


class Odoo:
    """Runs odoo-bin and the workers with one addons path and data dir."""

    def __init__(self, python, odoo_path, addon_root, extra_addons=()):
        self.python = python
        self.odoo_path = odoo_path
        self.addon_root = Path(addon_root)
        self.addons = ",".join(
            [f"{odoo_path}/odoo/addons", str(addon_root), *map(str, extra_addons)]
        )
        self.data_dir = str(WORK_DIR / "data")
        (WORK_DIR / "logs").mkdir(parents=True, exist_ok=True)

    def _run(self, cmd, logname):
        logfile = WORK_DIR / "logs" / f"{logname}.log"
        with open(logfile, "w", encoding="utf-8") as out:
            done = subprocess.run(
                cmd,
                stdout=subprocess.PIPE,
                stderr=out,
                text=True,
                check=False,
                cwd=WORK_DIR,
            )
        if done.returncode:
            tail = logfile.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(cmd[:4])}... failed; {logfile}:\n{tail}")
        return done.stdout

    def install(self, db, modules, extra=()):
        log(f"installing {modules} in {db}")
        self._run(
            [
                self.python,
                f"{self.odoo_path}/odoo-bin",
                "-d",
                db,
                "-i",
                modules,
                f"--addons-path={self.addons}",
                f"--data-dir={self.data_dir}",
                "--without-demo=all",
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
                *extra,
            ],
            f"{db}-install-{modules.replace(',', '_')}",
        )

    def run_worker(self, script, db, *options, mode=None, logname):
        """Run the bench worker ``script`` (its ``mode`` first, when it has
        modes) on ``db`` with this Odoo; return the result it printed."""
        out = self._run(
            [
                self.python,
                str(BENCH_DIR / script),
                *([mode] if mode else []),
                "--db",
                db,
                "--odoo-path",
                self.odoo_path,
                "--addons-path",
                self.addons,
                "--data-dir",
                self.data_dir,
                *options,
            ],
            logname,
        )
        return bench_result(out, f"{script} {mode or ''} on {db}")

    def worker(self, mode, db, *options):
        return self.run_worker(
            "followup_worker.py", db, *options, mode=mode, logname=f"{db}-{mode}"
        )


def ensure_base_template(odoo, name):
    if db_exists(name):
        return name
    name = "bench_base_account"
    if not db_exists(name):
        log(f"creating the base template {name} (account, no demo)")
        subprocess.run(["createdb", name], check=True)
        odoo.install(name, "account")
    return name


def ensure_bench_template(odoo, base, keep):
    """The base template + receivables_followup + seed invoices, cached by the
    addon's source hash (a stale one is dropped)."""
    name = f"bench_tpl_{addon_hash(odoo, base)}"
    if db_exists(name):
        log(f"reusing the bench template {name}")
        return name
    for stale in psql(
        "SELECT datname FROM pg_database WHERE datname LIKE " "'bench\\_tpl\\_%'"
    ).split():
        drop_db(stale)
    copy_db(base, name)
    try:
        odoo.install(name, MODULE, ["--load-language=fr_FR"])
        odoo.worker("seed", name)
    except BaseException:
        drop_db(name)
        raise
    log(f"bench template {name} ready" + ("" if keep else " (dropped at the end)"))
    return name


# ----------------------------------------------------------------------
# Generated databases
# ----------------------------------------------------------------------
def generate(db, invoices, customers, scenario):
    import psycopg2
    from datagen import generate as generate_data

    start = time.perf_counter()
    conn = psycopg2.connect(dbname=db)
    try:
        counts = generate_data(conn, invoices, customers, scenario)
    finally:
        conn.close()
    counts["seconds"] = time.perf_counter() - start
    log(f"generated {counts} in {db}")
    return counts


def checkpoint(db):
    """Flush what the data generation wrote, so that no timed run pays for it."""
    psql("CHECKPOINT", db=db)


def prepare_odoo(args, script):
    """What every driver does first: run again in the virtualenv, find Odoo
    and the addon to measure, and make sure the bench template exists.

    :returns: (Odoo, the bench template's name, the note naming the addon)
    """
    run_in_venv(args.python, script)
    odoo_path = find_odoo(args.odoo_path, args.python)
    addon_root, addon_note = addon_source(args.addon_ref)
    odoo = Odoo(args.python, odoo_path, addon_root)
    base = ensure_base_template(odoo, args.base_template)
    return odoo, ensure_bench_template(odoo, base, keep=True), addon_note


@contextmanager
def generated_db(args, template, db, invoices, customers, scenario):
    """A copy ``db`` of the bench template filled by ``datagen.py`` and
    checkpointed; dropped at the end unless ``--keep-db``."""
    copy_db(template, db)
    try:
        generate(db, invoices, customers, scenario)
        checkpoint(db)
        yield db
    finally:
        if not args.keep_db:
            drop_db(db)


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------
def fmt(value, width):
    if isinstance(value, float):
        value = f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    return str(value).rjust(width)


# ----------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------
def add_common_options(parser, what="the addon"):
    """The options every benchmark driver takes: where Odoo and its Python
    are, the databases it starts from and keeps, the commit it measures."""
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the bench_* databases"
    )
    parser.add_argument(
        "--odoo-path",
        help="Odoo 18 tree (default: ODOO_PATH, importable odoo, /opt/odoo18)",
    )
    parser.add_argument(
        "--python",
        default=default_python(),
        help="the virtualenv's python (default: the project's)",
    )
    parser.add_argument(
        "--base-template",
        default="t_base",
        help="database with account installed, copied read-only "
        "(default t_base; bench_base_account is built if missing)",
    )
    parser.add_argument(
        "--addon-ref",
        default="HEAD",
        help=f"git commit of {what} to measure (default HEAD; 'worktree' for "
        "the working tree as it is)",
    )


def run_in_venv(python, script, modules=("psycopg2",)):
    """Run ``script`` again with the virtualenv's ``python`` when this
    interpreter lacks the ``modules`` the driver needs."""
    try:
        for name in modules:
            __import__(name)
    except ImportError:
        if Path(sys.executable).resolve() == Path(python).resolve():
            sys.exit(f"{' or '.join(modules)} missing from the virtualenv")
        os.execv(python, [python, script, *sys.argv[1:]])
