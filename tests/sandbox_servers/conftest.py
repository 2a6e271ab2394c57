from tests.sandbox_fixtures import _fresh_process_caches, clock, sandbox_factory  # noqa: F401
