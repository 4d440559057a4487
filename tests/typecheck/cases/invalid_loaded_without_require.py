"""A loaded environment must be narrowed with require() before a state-specific transition."""

from orchestrator.domain import AnyEnvironment, Configured, Environment, Provisioned


def load() -> AnyEnvironment:
    raise NotImplementedError


loaded = load()
loaded.start_configuring()  # E: "Environment[Created]" to attribute function "start_configuring"
wrong: Environment[Configured] = loaded.require(Provisioned)  # E: "type[Provisioned]"; expected "type[Configured]"
loaded.require(int)  # E: Value of type variable "T" of "require" of "Environment" cannot be "int"
loaded.require(Provisioned).state = None  # E: Property "state" defined in "Environment" is read-only
