"""`python -m pulumi_lxd.plugin`: the same as the `pulumi-resource-lxd` executable."""

from pulumi_lxd.plugin.server import main

main()
