"""
WSGI config for cxconsole project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxconsole.settings")

application = get_wsgi_application()

from core.log_redaction import install_access_log_redaction  # noqa: E402
from core.secret_key import require_secret_key  # noqa: E402

require_secret_key()  # never serve signed links under a missing key
install_access_log_redaction()  # the server's access log prints ?token=… otherwise
