"""The environment's states, the commands that move it and the steps of each: the one definition.

Plain tuples and dicts with no imports, so that everything derives from it cheaply — the domain's state
classes and step enums, the persistence models, the CLI (its standard-library quick path too), the JSON
schemas and the docs. Adding a state means adding its row here and its class in `states.py` (a test
checks that the two agree); what it carries (a failure context or nothing) is its kind.
"""

# One row per state: (tag as stored, display name as shown, the command whose run sets it, kind).
# kind: "rest" — a command ended there; "in_progress" — a command is running, or died running;
# "failed" — a command stopped at a step (the state carries a failure context).
STATES = (
    ("created", "Created", "create", "rest"),
    ("provisioning", "Provisioning", "provision", "in_progress"),
    ("provisioned", "Provisioned", "provision", "rest"),
    ("provision_failed", "ProvisionFailed", "provision", "failed"),
    ("configuring", "Configuring", "configure", "in_progress"),
    ("configured", "Configured", "configure", "rest"),
    ("configure_failed", "ConfigureFailed", "configure", "failed"),
    ("releasing", "Releasing", "release", "in_progress"),
    ("released", "Released", "release", "rest"),
    ("release_failed", "ReleaseFailed", "release", "failed"),
    ("starting", "Starting", "run", "in_progress"),
    ("running", "Running", "run", "rest"),
    ("run_failed", "RunFailed", "run", "failed"),
    ("destroying", "Destroying", "destroy", "in_progress"),
    ("destroyed", "Destroyed", "destroy", "rest"),
    ("destroy_failed", "DestroyFailed", "destroy", "failed"),
)
TAGS = tuple(row[0] for row in STATES)
DISPLAY_NAME = {row[0]: row[1] for row in STATES}
TAG_OF = {row[1]: row[0] for row in STATES}
COMMAND_OF = {row[0]: row[2] for row in STATES}
IN_PROGRESS_TAGS = tuple(row[0] for row in STATES if row[3] == "in_progress")
FAILED_TAGS = tuple(row[0] for row in STATES if row[3] == "failed")

# The steps of each command, in order, as failure contexts record them.
COMMAND_STEPS = {
    "provision": ("prepare_stack", "pulumi_up", "read_outputs", "render_inventory", "wait_ssh", "wait_cloud_init"),
    "configure": ("install_docker", "install_docker_compose"),
    "release": ("render_release", "upload_release", "load_image"),
    "run": ("start_tracker", "wait_healthy"),
    "destroy": ("pulumi_destroy", "remove_stack", "clean_build"),
}

# The states each command starts from (first run, retry after a failure, idempotent re-run or repair).
ACCEPTED = {
    "provision": (
        "created",
        "provision_failed",
        "provisioned",
        "configured",
        "configure_failed",
        "released",
        "release_failed",
        "running",
        "run_failed",
    ),
    "configure": (
        "provisioned",
        "configure_failed",
        "configured",
        "released",
        "release_failed",
        "running",
        "run_failed",
    ),
    "release": ("configured", "release_failed", "released", "running", "run_failed"),
    "run": ("released", "run_failed", "running"),
    "test": ("running",),
    "register": ("created",),
    "destroy": TAGS,
}
# `deploy` continues from wherever the environment is, short of a destroy.
ACCEPTED["deploy"] = tuple(tag for tag in TAGS if COMMAND_OF[tag] != "destroy")

# The happy path: each resting state and the command that reaches it from the one before.
HAPPY_PATH = (
    ("created", "create"),
    ("provisioned", "provision"),
    ("configured", "configure"),
    ("released", "release"),
    ("running", "run"),
)

# States in which the instance exists and its address is recorded.
WITH_INSTANCE = tuple(tag for tag in TAGS if COMMAND_OF[tag] in ("configure", "release", "run") or tag == "provisioned")
# States in which the tracker's release files are on the host (its compose stack may be started).
WITH_RELEASE = ("released", "starting", "running", "run_failed")
