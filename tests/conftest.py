"""Shared pytest configuration: hypothesis profiles (select with HYPOTHESIS_PROFILE; default "ci")."""

import os

from hypothesis import HealthCheck, settings

# ci: bounded, for the 2-core CI machine; dev: a thorough local run; soak: thousands of examples.
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], print_blob=True)
settings.register_profile("ci", max_examples=40, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=300, **_COMMON)
settings.register_profile("soak", max_examples=3000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
