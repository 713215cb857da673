"""Training the learned fall decision (needs the `train` extra; never imported at inference)."""
