"""Row locks for the queues worked by scheduled actions (the outbox of agency
requests, the inbox of agency callbacks): a worker takes a record only when no
other worker holds it and it still waits for work."""

from odoo.tools import SQL


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
