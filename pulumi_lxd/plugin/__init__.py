"""The `pulumi-resource-lxd` provider plugin: Pulumi's resource provider protocol (gRPC, served by the
gRPC's server and the SDK's generated service, `proto`) over the LXD REST API (pylxd).

The engine starts it as an executable named `pulumi-resource-lxd` (the console script of this
distribution) and talks to it on the port it prints. Modules: `values` (wire values ↔ plain Python),
`client` (the provider configuration and the pylxd client), `rules` (defaults, checks and diffs — pure),
`profiles` and `instances` (what each resource does in LXD), `provider` (the protocol methods),
`server` (the entry point).
"""
