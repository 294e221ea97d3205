"""The DHIS2 test double (see ``tests.doubles.dhis2_server``)."""
