"""Store tests reuse the case-file tests' fixtures (their frozen day, a
service per actor, a case maker through the real service)."""

from tests.cases.conftest import clock, make_case, svc  # noqa: F401
