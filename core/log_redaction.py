"""Credentials never reach the logs: `token=` query values (shopper tracking tokens) and the
signed tokens in shopper link paths are replaced before a record is written.

Access logs (gunicorn's, uvicorn's, Django's runserver) and Django's request log print the full
request path, query string included. The filter rewrites the formatted message, so it works for
any logger's argument style; install_access_log_redaction() attaches it to the servers' access
loggers, whose handlers the servers set up themselves. Arguments keep their shape, since
those servers' formatters unpack them.
"""

import logging
import re

# ?token=… / &token=… (any case), and /callbacks/<signed>/ and /shop/access/<signed>/ paths.
_QUERY_TOKEN = re.compile(r"(?i)([?&](?:token|tracking_token)=)[^&\s\"']+")
_PATH_TOKEN = re.compile(r"(/(?:callbacks|shop/access)/)(?!\[redacted\])[^/\s?\"']{20,}")
REDACTED = "[redacted]"
ACCESS_LOGGERS = ("gunicorn.access", "uvicorn.access", "django.server", "django.request")


def redact(text: str) -> str:
    return _PATH_TOKEN.sub(rf"\1{REDACTED}", _QUERY_TOKEN.sub(rf"\1{REDACTED}", text))


class RedactTokensFilter(logging.Filter):
    """Redacts the message template and each text argument in place, keeping the arguments'
    shape: access-log formatters (uvicorn's, gunicorn's) unpack them themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args.items()}
        return True


def install_access_log_redaction() -> None:
    """Attach the filter to the access loggers (a logger's filters see every record logged on it)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())
