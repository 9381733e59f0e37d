"""Row locks for the queues worked by scheduled actions (the outbox of agency
requests, the inbox of agency callbacks, the follow-up's actions): a worker
takes a record only when no other worker holds it and it still waits for work;
a call that meets another worker's writes is retried."""

import logging
import random
import time

from psycopg2 import errorcodes

from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: seconds: the longest wait before the second try of a call; doubled after
RETRY_WAIT = 0.25


def lock_waiting(record, states):
    """Lock ``record``'s row for this transaction if it is in one of
    ``states``; False when another worker holds it or it has moved on.

    ``SKIP LOCKED``: two cron workers never wait for each other, each takes the
    records the other has not.
    """
    record.ensure_one()
    record.env.cr.execute(
        SQL(
            "SELECT id FROM %s WHERE id = %s AND state IN %s FOR UPDATE SKIP LOCKED",
            SQL.identifier(record._table),
            record.id,
            tuple(states),
        )
    )
    if not record.env.cr.fetchone():
        return False
    record.invalidate_recordset()
    return True


def retry_on_concurrency(env, step, tries=MAX_TRIES_ON_CONCURRENCY_FAILURE):
    """Call ``step()`` until it ends without a concurrency error, as Odoo
    retries a request (``odoo.service.model.retrying``): roll the transaction
    back and call again with a new snapshot, at once the first time, then after
    a random wait growing with each try. Nothing is committed here: a
    scheduled action's runner commits after the call.

    A cron worker's call fails this way when another worker or a user wrote
    what the call writes since its transaction began; without the retry, Odoo
    would take the failure for the job's and leave its work to the next day.
    """
    for attempt in range(1, tries + 1):
        try:
            result = step()
            # what the step wrote meets the other transactions here, not after
            env.flush_all()
            return result
        except Exception as raised:
            error = concurrency_error(raised)
            if error is None:
                raise
            env.cr.rollback()
            env.reset()
            env.registry.reset_changes()
            if attempt == tries:
                raise error from raised
            # the other transaction has committed: the first retry's snapshot
            # sees it at once; waits grow for a row that keeps changing
            wait = (
                random.uniform(0.0, RETRY_WAIT * 2 ** (attempt - 1))
                if attempt > 1
                else 0
            )
            _logger.info(
                "%s, %s tries left, trying again in %.2f s",
                errorcodes.lookup(error.pgcode),
                tries - attempt,
                wait,
            )
            time.sleep(wait)
    raise RuntimeError("unreachable")


def concurrency_error(error):
    """The concurrency error (serialization failure, deadlock, lock not
    available) that caused ``error``, or None. A template's rendering, for one,
    raises its own error with the database's as its cause: the transaction is
    as broken, and only a new one can do the work."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None
