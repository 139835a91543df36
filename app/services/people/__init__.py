"""Users, groups and memberships: sign-in, bearer tokens and the language each user reads."""
