"""Persistence: models, migrations, snapshots and the diff that turns them into events."""
