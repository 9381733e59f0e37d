"""Plain-Python fixtures of the Debitura adapter's tests: a claim as the
models would build it, with two invoices of a French company debtor."""

from datetime import date

from ..services.debitura import payloads


def make_claim(reference="RF-TEST-1", lines=None, **changes):
    debtor = payloads.Debtor(
        is_company=True,
        name="Dupont Bâtiment SARL",
        address="12 rue de la Paix",
        zip="75002",
        city="Paris",
        country_code="FR",
        email="compta@dupont-batiment.example",
        phone="+33 1 23 45 67 89",
        vat="FR40303265045",
    )
    values = {
        "creditor_reference": reference,
        "currency": "EUR",
        "date": date(2025, 1, 10),
        "debtor": debtor,
        "lines": lines
        or [
            ("INV/2025/0001", date(2025, 2, 9), 423.42),
            payloads.ClaimLine("INV/2025/0007", date(2025, 3, 15), 700.87),
        ],
        "comments": "Two reminders and a formal notice sent.",
        "is_test": True,
        "tag": "rf-client-tests",
        "creditor_name": "Test Company",
    }
    values.update(changes)
    return payloads.Claim(**values)
