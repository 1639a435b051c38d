"""The staff API fixtures, shared with the API tests."""

from tests.api.conftest import staff_api, staff_api_each_store, staff_settings

__all__ = ["staff_api", "staff_api_each_store", "staff_settings"]
