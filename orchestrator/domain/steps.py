"""The steps of each command, as recorded in failure contexts."""

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


class DestroyStep(StrEnum):
    """Steps of `destroy`, in order."""

    PULUMI_DESTROY = "pulumi_destroy"
    REMOVE_STACK = "remove_stack"
    CLEAN_BUILD = "clean_build"


Step: TypeAlias = ProvisionStep | ConfigureStep | DestroyStep
