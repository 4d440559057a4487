from tests.e2e.cli.helpers import cleanup

__all__ = ["cleanup"]
