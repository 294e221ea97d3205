"""Outbound and inbound messages to patients: SMS, e-mail, USSD."""
