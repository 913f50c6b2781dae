from tests.e2e.browser import page  # noqa: F401  (fixture)
