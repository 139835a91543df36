"""Process instances from start to end: starting (and which processes a user may start), reading,
cancelling and retrying them; loading and saving their state with the side tables, engine steps,
messages and attachments."""
