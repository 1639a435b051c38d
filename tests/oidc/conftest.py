"""The single sign-on tests' fixtures: a real OpenID provider per test module."""

from tests.oidc.idp import idp, sso_client  # noqa: F401 - fixtures
