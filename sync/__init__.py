"""Orchestration: sync runs, the scheduler daemon, events, webhooks and the CLI."""
