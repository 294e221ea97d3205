"""Who may do what, where: roles, permissions and the one policy that decides."""
