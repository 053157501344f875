"""Fieldwork: waves, personal links (tokens), and later contacts and invitations."""
