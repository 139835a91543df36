"""Running the server itself: demo data for the embedded default, and what administrators see of
the sandbox (its limits and isolation layers)."""
