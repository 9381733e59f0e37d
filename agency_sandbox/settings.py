"""Tunable behaviour of the sandbox, stored with its data.

The defaults make a well-behaved agency: 20 covered countries, signed contracts,
duplicate creditor references refused, and Debitura-like webhook retries (8 attempts
over about 17 hours). Tests shorten the retry delays and change coverage through
``PATCH /_sandbox/settings``; a value must keep the type of its default.
"""

import json
import uuid

from .geo import country_code
from .store import dumps

TEAM_NAMESPACE = uuid.UUID("0b6f1c6e-2f0a-4d9e-8a3b-5c1d7e9f2a44")

DEFAULTS = {
    "covered_countries": [
        "AT",
        "AU",
        "BE",
        "CA",
        "CH",
        "CZ",
        "DE",
        "DK",
        "ES",
        "FI",
        "FR",
        "GB",
        "IE",
        "IT",
        "NL",
        "NO",
        "PL",
        "PT",
        "SE",
        "US",
    ],  # fmt: skip
    "sdca_signed": True,
    "poa_signed": True,
    "duplicate_creditor_reference": "reject",
    "auto_activate": False,
    "base_success_fee": 15.0,
    "exclusive_period_days": 90,
    "idempotency_ttl_seconds": 86400,
    "latency_ms": 0,
    "log_control_requests": False,
    "request_log_limit": 10000,
    "strict_webhook_urls": False,
    "webhook_max_attempts": 8,
    "webhook_retry_delays": [60, 300, 900, 3600, 10800, 21600, 43200],
    "webhook_timeout": 10.0,
    "webhook_reorder_window": 2.0,
    "secret_rotation_grace_seconds": 0,
    "creditor": {
        "id": "5f0e7c2a-1b3d-4e6f-8a9b-0c1d2e3f4a5b",
        "companyName": "Sandbox Creditor ApS",
        "companyRegistrationNumber": "DK12345678",
        "address": "Sandkassevej 1",
        "zipCode": "2100",
        "city": "Copenhagen",
        "state": None,
        "country": "Denmark",
        "officeEmail": "finance@sandbox-creditor.example",
        "officePhone": "+45 70 10 20 30",
    },
    "team": [
        {"name": "Sandbox Accountant", "email": "accountant@sandbox-creditor.example"},
        {"name": "Sandbox Controller", "email": "controller@sandbox-creditor.example"},
    ],
}

CHOICES = {"duplicate_creditor_reference": ("reject", "allow")}


class SettingsError(ValueError):
    """A settings patch with an unknown key or a value of the wrong type."""


def load(db):
    """Current settings: the defaults overlaid with what was stored."""
    values = json.loads(dumps(DEFAULTS))
    for row in db.execute("SELECT key, value FROM settings"):
        if row["key"] in values:
            values[row["key"]] = json.loads(row["value"])
    return values


def patch(db, changes):
    """Validate and store ``changes``; return the resulting settings."""
    if not isinstance(changes, dict):
        raise SettingsError("Settings must be a JSON object.")
    for key, value in changes.items():
        _check(key, value)
    if "covered_countries" in changes:
        changes = {**changes, "covered_countries": _upper(changes["covered_countries"])}
    for key, value in changes.items():
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, dumps(value)),
        )
    return load(db)


def reset(db):
    """Forget every stored setting (back to the defaults)."""
    db.execute("DELETE FROM settings")


def team(values):
    """Team members with stable ids: a GUID for ``/users``, an int for chats."""
    members = []
    for index, member in enumerate(values["team"], start=1):
        email = member["email"].lower()
        members.append(
            {
                "id": str(uuid.uuid5(TEAM_NAMESPACE, email)),
                "userRelationId": index,
                "name": member["name"],
                "email": email,
            }
        )
    return members


def _upper(codes):
    return [code.upper() for code in codes]


def _check(key, value):
    if key not in DEFAULTS:
        raise SettingsError(f"Unknown setting '{key}'.")
    default = DEFAULTS[key]
    numeric = isinstance(default, int | float) and not isinstance(default, bool)
    if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise SettingsError(f"Setting '{key}' must be a number.")
    if not numeric and type(value) is not type(default):
        raise SettingsError(f"Setting '{key}' must be a {type(default).__name__}.")
    if key in CHOICES and value not in CHOICES[key]:
        raise SettingsError(f"Setting '{key}' must be one of {list(CHOICES[key])}.")
    if key == "webhook_retry_delays" and not all(
        isinstance(v, int | float) and v >= 0 for v in value
    ):
        raise SettingsError("webhook_retry_delays must be non-negative numbers.")
    if key == "covered_countries":
        if not all(isinstance(v, str) and country_code(v) for v in value):
            raise SettingsError("covered_countries must be ISO 3166-1 alpha-2 codes.")
