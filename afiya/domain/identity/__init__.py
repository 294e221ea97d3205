"""Staff users, passwords, sessions and tokens."""
