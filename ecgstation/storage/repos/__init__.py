"""Repositories: one per kind of stored thing, each checking the actor's role before it reads or writes."""
