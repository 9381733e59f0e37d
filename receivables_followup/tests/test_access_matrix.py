"""Every role against every door of the addon, printed as a table.

The doors: each model the addon adds (access rights, record rules across the
two companies), each public method it defines (called over JSON-RPC by every
internal role), each route of its controllers and its report URLs (for the
customers' side), and the agency's secrets (read in every way the web client
and the API read, and looked for in the server's log). The expected tables are
written in ``access_expected.py`` (doors 1 and 2) and with the doors 3 and 4;
a door that opens (an access line loosened, a rule dropped, a method that
forgets its check) fails the test of its door. The tables are logged and
written to ``$ODOO_TEST_OUTPUT`` (a file, or a directory that gets
``access_matrix.txt``), else to ``access_matrix.txt`` in the data directory.
"""

import base64
import json
import logging
import os
from pathlib import Path

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import config, mute_logger

from .access_doors_routes import RouteDoors
from .access_doors_secrets import SecretDoors
from .access_expected import COMPANY_VIA, EXPECTED_METHODS, MODEL_GROUPS, PORTAL_OWN
from .common_access import (
    ADDON_MODULE,
    INTERNAL_ROLES,
    ROLE_COMPANY,
    ROLES,
    AccessMatrixCommon,
    text_table,
)

_logger = logging.getLogger(__name__)

OPERATIONS = ("read", "write", "create", "unlink")


class _Allowed(Exception):
    """Raised after an allowed attempt, to roll it back."""


def _cell(ops):
    """'rwcd' with a dash for each operation refused."""
    return "".join(
        letter if op in ops else "-"
        for op, letter in zip(OPERATIONS, "rwcd", strict=True)
    )


@tagged("post_install", "-at_install")
class TestAccessMatrix(RouteDoors, SecretDoors, AccessMatrixCommon, HttpCase):
    # the doors 3 and 4 come from mixins, in files of their own
    allow_inherited_tests_method = True
    tables = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(cls._write_tables)

    @classmethod
    def _write_tables(cls):
        if not cls.tables:
            return
        text = "\n".join(cls.tables[key] for key in sorted(cls.tables))
        _logger.info("Access matrix:\n%s", text)
        target = os.environ.get("ODOO_TEST_OUTPUT")
        path = Path(target) if target else Path(config["data_dir"])
        if path.is_dir() or not target:
            path = path / "access_matrix.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        _logger.info("Access matrix written to %s", path)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _env(self, role):
        return self.env(user=self.users[role], context={})

    def _try(self, attempt):
        """``attempt()`` in a savepoint always rolled back: True when it
        passed the access checks (it succeeded, or failed for another reason
        than access), False on an AccessError."""
        try:
            # a create from nothing fails in the database past the door
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                attempt()
                self.env.flush_all()
                raise _Allowed
        except _Allowed:
            return True
        except AccessError:
            return False
        except Exception:  # noqa: BLE001 - any other refusal is past the door
            return True
        finally:
            self.env.invalidate_all()

    def _addon_models(self):
        """The models whose ``_name`` the addon defines, from ir.model."""
        names = self.env["ir.model"].search([]).mapped("model")
        return sorted(
            name
            for name in names
            if name in self.env
            and self.env[name]._original_module == "receivables_followup"
        )

    @staticmethod
    def _kind(Model):
        if Model._abstract:
            return "abstract"
        if Model._transient:
            return "wizard"
        return "model" if Model._auto else "SQL view"

    # ------------------------------------------------------------------
    # 1. models
    # ------------------------------------------------------------------
    def test_1_models(self):
        expected = {
            model: (group, rights)
            for group, (rights, models) in MODEL_GROUPS.items()
            for model in models
        }
        models = self._addon_models()
        self.assertEqual(
            set(models),
            set(expected),
            "every model of the addon has its expected rights written here",
        )
        Rule = self.env["ir.rule"]
        acl_rows, real_rows, company_rows = [], [], []
        failures = []
        for model in models:
            group, rights = expected[model]
            Model = self.env[model]
            kind = self._kind(Model)
            a_sample = self._sample(model, "a")
            b_sample = self._sample(model, "b")
            acl_cells, real_cells, company_cells = [], [], []
            for role in ROLES:
                env = self._env(role)
                allowed = {op for op in OPERATIONS if env[model].has_access(op)}
                checked = {
                    op
                    for op in OPERATIONS
                    if env[model].check_access_rights(op, raise_exception=False)
                }
                want = {op for op in OPERATIONS if role in rights[op]}
                if allowed != want or checked != want:
                    failures.append(f"{model} {role}: rights {_cell(allowed)}")
                acl_cells.append(_cell(allowed))
                # real attempts: create from nothing (any error but an
                # AccessError is past the door), then read, write and delete
                # the company-1 record
                real = set()
                if kind != "abstract" and self._try(
                    lambda env=env, model=model: env[model].create({})
                ):
                    real.add("create")
                if a_sample:
                    real |= self._record_attempts(env, a_sample)
                want_real = want & {"create"}
                if a_sample:
                    want_real |= self._expected_on(model, role, want, a_sample, "a")
                if real != want_real:
                    failures.append(f"{model} {role}: real {_cell(real)}")
                real_cells.append(_cell(real) if kind != "abstract" else "n/a")
                # company 2's record
                if b_sample and self._company_of(b_sample):
                    got = self._record_attempts(env, b_sample, ("read", "write"))
                    want_b = self._expected_on(model, role, want, b_sample, "b") & {
                        "read",
                        "write",
                    }
                    if got != want_b:
                        failures.append(f"{model} {role}: company 2 {_cell(got)}")
                    company_cells.append(_cell(got)[:2])
            rules = Rule.sudo().search_count([("model_id.model", "=", model)])
            acl_rows.append([model, kind, group.split(":")[0], *acl_cells])
            real_rows.append([model, kind, *real_cells])
            if company_cells:
                company_rows.append([model, rules, *company_cells])
            elif Model._auto and not Model._transient:
                failures.append(f"{model}: no company-2 record tried")
        self.tables["1a"] = text_table(
            "1a. Access rights (has_access / check_access_rights): "
            "r read, w write, c create, d delete",
            ["model", "kind", "group", *ROLES],
            acl_rows,
        )
        self.tables["1b"] = text_table(
            "1b. Real attempts: create from nothing, then read, write, delete "
            "one company-1 record (a wizard: another user's)",
            ["model", "kind", *ROLES],
            real_rows,
        )
        self.tables["1c"] = text_table(
            "1c. One company-2 record: read, write",
            ["model", "rules", *ROLES],
            company_rows,
        )
        self.assertFalse(failures, "\n".join(failures))

    def _record_attempts(self, env, sample, operations=("read", "write", "unlink")):
        record = sample.with_env(env)
        attempts = {
            "read": lambda: record.read(["id"]),
            "write": lambda: record.write({}),
            "unlink": lambda: record.unlink(),
        }
        return {op for op in operations if self._try(attempts[op])}

    @staticmethod
    def _company_of(record):
        if record._name in COMPANY_VIA:
            record = record[COMPANY_VIA[record._name]]
        return record.company_id if "company_id" in record else None

    def _expected_on(self, model, role, rights, sample, company_key):
        """The operations ``role`` may do on ``sample``: its rights, in its
        company only, a customer on its own records only, nobody on another
        user's wizard."""
        ops = rights & {"read", "write", "unlink"}
        Model = self.env[model]
        if Model._transient:
            return set()
        if not self._company_of(sample):
            # shared configuration: only a user of every company changes it
            return ops & {"read"}
        if ROLE_COMPANY[role] != company_key:
            return set()
        if role in ("portal", "portal_b") and model in PORTAL_OWN:
            dispute = sample if model == "followup.dispute" else sample.dispute_id
            own = self.users[role].partner_id.commercial_partner_id
            if dispute.partner_id != own:
                return set()
        return ops

    # ------------------------------------------------------------------
    # HTTP helpers
    # ------------------------------------------------------------------
    def _login(self, role):
        if role == "public":
            self.authenticate(None, None)
        else:
            login = self.users[role].login
            self.authenticate(login, login)

    def _fingerprint(self):
        """Row count and latest change of the tables a door could change."""
        tables = [
            self.env[name]._table
            for name in self._addon_models()
            if self.env[name]._auto and not self.env[name]._transient
        ] + list(WATCHED_TABLES)
        self.env.flush_all()
        query = " UNION ALL ".join(
            # a row written in the call carries the call's (sub)transaction
            f"SELECT '{table}', count(*), max(xmin::text::bigint) FROM {table}"
            for table in tables
        )
        self.env.cr.execute(query)
        return self.env.cr.fetchall()

    def _rolled_back(self, call, prepare=None):
        """``prepare()``, then ``call(prepared)`` and whether it left the data
        as it found it; everything rolled back after."""
        savepoint = self.env.cr.savepoint()
        try:
            prepared = prepare() if prepare else None
            before = self._fingerprint()
            result = call(prepared)
            return result, before == self._fingerprint()
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()

    def _call_kw(self, model, method, args, kwargs=None, context=None):
        """``(outcome, response text)`` of a JSON-RPC call_kw."""
        params = {
            "model": model,
            "method": method,
            "args": args,
            "kwargs": {**(kwargs or {}), "context": context or {}},
        }
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )
        body = response.json()
        if "error" not in body:
            return "ok", response.text, body.get("result")
        name = body["error"]["data"]["name"]
        return OUTCOMES.get(name, f"error ({name})"), response.text, None

    # ------------------------------------------------------------------
    # 2. public methods over JSON-RPC
    # ------------------------------------------------------------------
    def _public_methods(self, abstract=False):
        """``model.method`` of every public method the addon defines (not an
        override of another module's), on concrete models, or with
        ``abstract`` on the abstract models that hold a responsibility of
        them (the overview, a service called without records, is concrete
        here)."""
        found = set()
        for name in self.env.registry:
            cls = type(self.env[name])
            is_abstract = self.env[name]._abstract and name != "followup.overview"
            if is_abstract != abstract:
                continue
            for attr in dir(cls):
                if attr.startswith("_"):
                    continue
                owners = [k for k in cls.__mro__ if attr in vars(k)]
                if not owners or not callable(vars(owners[0])[attr]):
                    continue
                modules = {getattr(k, "__module__", "") for k in owners}
                if all(m.startswith(ADDON_MODULE) for m in modules):
                    found.add(f"{name}.{attr}")
        return found

    def _method_calls(self):
        """How each public method is called: ``(model, ids or a wizard's
        values, kwargs, context)``."""
        rec = self.agency_records["a"]
        review = self.review_a
        run = self.env["followup.run"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        effect_level = self._sample("followup.reminder.effect.level", "a")
        wizard = {  # wizard model: values its creator gives
            "followup.review.postpone": {
                "history_ids": [(6, 0, review.ids)],
                "date": "2099-01-01",
            },
            "followup.review.skip": {
                "history_ids": [(6, 0, review.ids)],
                "reason": "Matrix",
            },
            "followup.review.stale": {"history_ids": [(6, 0, review.ids)]},
            "followup.review.edit": {
                "history_ids": [(6, 0, review.ids)],
                "subject": "Matrix",
            },
            "followup.exclude.wizard": {
                "move_ids": [(6, 0, self.invoice.ids)],
                "mode": "exclude",
                "reason": "Matrix",
            },
            "followup.partner.settings": {
                "partner_id": self.customer_be.id,
                "no_auto": True,
                "reason": "Matrix",
            },
            "followup.partner.assign": {
                "partner_ids": [(6, 0, self.customer_be.ids)],
                "user_id": self.users["followup_user"].id,
                "reason": "Matrix",
            },
            "followup.postpone": {
                "move_ids": [(6, 0, self.invoice.ids)],
                "date": "2099-01-01",
                "reason": "Matrix",
            },
            "followup.statement.send": {
                "partner_ids": [(6, 0, self.customer_be.ids)],
                "company_id": self.company.id,
            },
            "followup.dispute.resolve": {
                "dispute_id": self.dispute_a.id,
                "resolution": "rejected",
                "rejection_reason": "Matrix",
            },
            "followup.handoff.wizard": {
                "company_id": self.company.id,
                "agency_id": self.agency.id,
                "move_ids": [(6, 0, self.invoice_fr.ids)],
            },
            "followup.agency.import.wizard": {
                "agency_id": self.agency.id,
                "file": base64.b64encode(b"reference;status\n").decode(),
                "filename": "matrix.csv",
            },
        }
        targets = {
            "followup.history": review,
            "followup.agency": self.agency,
            "followup.agency.case": rec["followup.agency.case"],
            "followup.agency.event": rec["followup.agency.event"],
            "followup.agency.import": rec["followup.agency.import"],
            "followup.agency.request": rec["followup.agency.request"],
            "followup.dispute": self.dispute_a,
            "followup.policy": self.policy,
            "followup.run": run,
            "followup.run.action_run_followup": None,
            "followup.dispute.action_reject": (self.dispute_a, {"reason": "Matrix"}),
            "followup.reminder.effect.level": effect_level,
            "res.partner": self.customer_be,
            "account.move": self.invoice,
            "account.bank.statement.line": self.statement_line,
            "followup.overview": None,
        }
        calls = {}
        for key in self._public_methods():
            model, method = key.rsplit(".", 1)
            if model in wizard:
                calls[key] = (model, method, wizard[model])
            elif key in targets:
                calls[key] = (model, method, targets[key])
            else:
                calls[key] = (model, method, targets[model])
        return calls

    def _make_wizard(self, model, target):
        """The wizard of a call, created by the caller: ``(outcome, args)``."""
        if not isinstance(target, dict):
            return "ok", None
        outcome, _text, wizard_id = self._call_kw(model, "create", [target])
        return outcome, [[wizard_id]] if outcome == "ok" else None

    def _call_method(self, model, method, target, prepared):
        kwargs = None
        if isinstance(target, tuple):
            target, kwargs = target
        outcome, args = prepared
        if outcome != "ok":
            return outcome
        if args is None:
            if target is None:
                args = []
            elif not target:
                return "n/a"
            else:
                args = [target.ids]
        return self._call_kw(model, method, args, kwargs)[0]

    def test_2_public_methods(self):
        calls = self._method_calls()
        got = {key: {} for key in calls}
        failures = []
        for role in INTERNAL_ROLES:
            self._login(role)
            for key in sorted(calls):
                model, method, target = calls[key]
                outcome, unchanged = self._rolled_back(
                    lambda p, m=model, f=method, t=target: self._call_method(
                        m, f, t, p
                    ),
                    prepare=lambda m=model, t=target: self._make_wizard(m, t),
                )
                if outcome == "ok" and not unchanged:
                    outcome = "changed"
                got[key][role] = outcome
                if outcome not in ("ok", "changed") and not unchanged:
                    failures.append(f"{key} {role}: {outcome} but data changed")
        rows = []
        for key in sorted(calls):
            cells = [got[key][role] for role in INTERNAL_ROLES]
            rows.append([key, *cells])
            if tuple(cells) != EXPECTED_METHODS.get(key):
                failures.append(f"{key}: {' '.join(cells)}")
        self.tables["2"] = text_table(
            "2. Public methods over /web/dataset/call_kw, on company-1 records "
            "(a wizard: created by the caller first). ok: done, nothing changed; "
            "changed: done, data changed; "
            "denied: AccessError; refused: UserError/ValidationError; "
            "missing: MissingError; a refusal changed nothing",
            ["method", *INTERNAL_ROLES],
            rows,
        )
        self.assertEqual(
            set(calls),
            set(EXPECTED_METHODS),
            "every public method of the addon has its expected outcomes here",
        )
        self.assertFalse(failures, "\n".join(failures))

    def test_2b_abstract_public_methods(self):
        """The abstract models are reachable over call_kw too: their public
        methods, called there on a record's id, are refused (no records, no
        rights), never done and never a server error."""
        calls = sorted(self._public_methods(abstract=True))
        self.assertIn("followup.history.review.action_open_handoff_wizard", calls)
        failures = []
        for role in INTERNAL_ROLES:
            self._login(role)
            for key in calls:
                model, method = key.rsplit(".", 1)
                outcome, unchanged = self._rolled_back(
                    lambda _prepared, m=model, f=method: self._call_kw(
                        m, f, [self.review_a.ids]
                    )[0]
                )
                if outcome not in ("denied", "refused") or not unchanged:
                    failures.append(f"{key} {role}: {outcome}, unchanged {unchanged}")
        self.assertFalse(failures, "\n".join(failures))


#: tables outside the addon's a call could change
WATCHED_TABLES = (
    "account_move",
    "account_partial_reconcile",
    "res_partner",
    "mail_message",
    "mail_activity",
    "mail_mail",
    "ir_attachment",
    "payment_transaction",
)
OUTCOMES = {
    "odoo.exceptions.AccessError": ("denied"),
    "odoo.exceptions.AccessDenied": ("denied"),
    "odoo.exceptions.MissingError": ("missing"),
    "odoo.exceptions.UserError": ("refused"),
    "odoo.exceptions.ValidationError": ("refused"),
    "odoo.exceptions.RedirectWarning": ("refused"),
}
