"""The LXD dynamic provider and the environment program as they were before `pulumi-lxd` (frozen copies of
`orchestrator/infrastructure/pulumi/lxd_provider.py` and `stacks/environment.py` at the commit before it),
kept only so that the migration tests can make a stack the way the old code did. Pulumi pickles the
providers by reference to this package: the dynamic-provider process must be able to import `tests`
(PYTHONPATH = the checkout)."""
