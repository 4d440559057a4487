"""The steps of each command, as recorded in failure contexts (values from `vocabulary.COMMAND_STEPS`)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias


class ProvisionStep(StrEnum):
    """Steps of `provision`, in order."""

    PREPARE_STACK = "prepare_stack"
    PULUMI_UP = "pulumi_up"
    READ_OUTPUTS = "read_outputs"
    RENDER_INVENTORY = "render_inventory"
    WAIT_SSH = "wait_ssh"
    WAIT_CLOUD_INIT = "wait_cloud_init"


class ConfigureStep(StrEnum):
    """Steps of `configure`, in order."""

    INSTALL_DOCKER = "install_docker"
    INSTALL_DOCKER_COMPOSE = "install_docker_compose"


class ReleaseStep(StrEnum):
    """Steps of `release`, in order."""

    RENDER_RELEASE = "render_release"
    UPLOAD_RELEASE = "upload_release"
    LOAD_IMAGE = "load_image"


class RunStep(StrEnum):
    """Steps of `run`, in order."""

    START_TRACKER = "start_tracker"
    WAIT_HEALTHY = "wait_healthy"


class DestroyStep(StrEnum):
    """Steps of `destroy`, in order."""

    PULUMI_DESTROY = "pulumi_destroy"
    REMOVE_STACK = "remove_stack"
    CLEAN_BUILD = "clean_build"


Step: TypeAlias = ProvisionStep | ConfigureStep | ReleaseStep | RunStep | DestroyStep
STEP_ENUMS: dict[str, type[Step]] = {
    "provision": ProvisionStep,
    "configure": ConfigureStep,
    "release": ReleaseStep,
    "run": RunStep,
    "destroy": DestroyStep,
}
"""The step enum of each command that has steps (checked against `vocabulary.COMMAND_STEPS` by a test)."""
