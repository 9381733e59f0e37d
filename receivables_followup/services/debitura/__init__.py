"""Debitura's Customer API v1 without the ORM: constants, an HTTP client raising
classified :class:`~..agency_errors.AgencyError`, and the plain functions that turn
our claims into request bodies and the agency's answers into plain dataclasses."""
