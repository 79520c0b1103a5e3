"""The shopper page's tests reuse the console's personas and browser rig."""

from tests.console.conftest import (  # noqa: F401
    ana,
    bo,
    browser,
    console_server,
    expect,
    mei,
    page,
    sam,
    screenshots,
    signed_in,
    storefront_token,
)
from tests.routing.conftest import inquiry  # noqa: F401
