"""Pulumi programs: what an environment's infrastructure is."""
