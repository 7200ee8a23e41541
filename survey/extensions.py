"""Unbound Flask extensions; ``create_app`` binds them to the app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
# No default limits: each public route declares its own, staff routes none.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
