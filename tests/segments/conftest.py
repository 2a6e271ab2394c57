import pytest

from segments import estimates


@pytest.fixture
def no_estimate_providers():
    """The estimate's built-in fallbacks, with the apps' registered providers put back after."""
    saved = estimates._rate_provider, estimates._quota_provider
    estimates.verification_rate_provider_register(None)
    estimates.quota_remaining_provider_register(None)
    yield
    estimates.verification_rate_provider_register(saved[0])
    estimates.quota_remaining_provider_register(saved[1])
