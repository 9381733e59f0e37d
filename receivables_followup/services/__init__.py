"""Plain-Python business rules of the follow-up.

Nothing here touches the ORM: functions take plain values (dates, amounts, ids) and
return plain values, so they can be read and tested alone. Models gather the values in
batched reads, call these functions and write the results back grouped by outcome.
"""
