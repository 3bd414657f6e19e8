"""Superset settings for the commissioning monitor (read by Superset through
SUPERSET_CONFIG_PATH; runs in .superset-venv, not in the app's venv).

Everything that differs between machines comes from the environment;
`superset_config/superset.sh` sets development defaults, and README.md in
this folder lists every variable with its default and what production sets.
SUPERSET_PROFILE chooses where Superset keeps shared state: `demo` (the
default: one process, in-memory cache, SQLite metadata) or `production`
(PostgreSQL metadata, Redis caches, a Celery worker; production.py). Superset
reads only the warehouse (the marts), never the app's own tables; the
warehouse's address is in the dashboards bundle that `flask superset
provision` imports.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SUPERSET_HOME = Path(os.environ.get("SUPERSET_HOME") or ROOT / "instance" / "superset")


def _secret_rules() -> ModuleType:
    """monitor/secret_keys.py, the one home of "is this secret acceptable",
    loaded by path: Superset's Python does not have the app installed."""
    name = "monitor_secret_keys"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "monitor" / "secret_keys.py")
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {ROOT / 'monitor' / 'secret_keys.py'}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def _secrets() -> tuple[str, str]:
    """Superset's session key and guest-token key from the environment, refused
    in EVERY environment when missing, short, published or equal: with a known
    key anyone can forge an admin session cookie or a guest token without
    row-level security. `make demo` and the tests supply generated ones."""
    names = ("SUPERSET_SECRET_KEY", "SUPERSET_GUEST_TOKEN_SECRET")
    values = {name: os.environ.get(name, "") for name in names}
    problems = _secret_rules().secret_problems(values)
    if problems:
        raise RuntimeError("Superset will not start: " + " ".join(problems))
    return values["SUPERSET_SECRET_KEY"], values["SUPERSET_GUEST_TOKEN_SECRET"]


_SECRET_KEY, _GUEST_TOKEN_SECRET = _secrets()
# Signs Superset's sessions and encrypts stored database passwords.
SECRET_KEY = _SECRET_KEY
DATA_DIR = str(SUPERSET_HOME)

# Beside this file: the production profile (production.py) and the custom
# security manager (security_manager.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
import production  # noqa: E402

SUPERSET_PROFILE = production.profile(os.environ)

# The embedded default warehouse is a SQLite file, which Superset refuses as
# a data source unless told otherwise. Only the provisioned database exists:
# no example data is loaded and SQL Lab is not offered to guests.
PREVENT_UNSAFE_DB_CONNECTIONS = False

FEATURE_FLAGS = {
    # Dashboards inside the app, through guest tokens.
    "EMBEDDED_SUPERSET": True,
}

# Guest tokens: the app asks for one per page view (its service account has
# the Admin role), with a row-level security rule for the viewer. The guest
# role holds the allow-list in guest_role.py (set by superset.sh setup)
# and no datasource access: a guest reads a dataset only through a chart on
# a dashboard its token names.
GUEST_TOKEN_JWT_SECRET = _GUEST_TOKEN_SECRET
GUEST_ROLE_NAME = "Embedded viewer"
GUEST_TOKEN_JWT_EXP_SECONDS = 300
# Guests get only the allow-listed permissions and endpoints, and only the
# saved charts' own queries (security_manager.py, beside this file).
from security_manager import MonitorSecurityManager  # noqa: E402

CUSTOM_SECURITY_MANAGER = MonitorSecurityManager

# The app that frames the dashboards (scheme, host and port).
MONITOR_ORIGIN = os.environ.get("MONITOR_ORIGIN", "http://127.0.0.1:5000").rstrip("/")
_FRAME_ANCESTORS = ["'self'", *[origin for origin in MONITOR_ORIGIN.split() if origin]]

# Cookies: named apart from the app's (monitor_session), which is served from
# the same host in the demo: cookies do not keep to a port, so two cookies
# called `session` would overwrite each other and sign the user out of the
# app whenever a dashboard loaded. In production serve Superset from a host
# of its own as well, over HTTPS, so its cookies are Secure.
SESSION_COOKIE_NAME = "superset_session"
REMEMBER_COOKIE_NAME = "superset_remember_token"
_SECURE_COOKIES = os.environ.get("MONITOR_ENV") == "production"
SESSION_COOKIE_SECURE = _SECURE_COOKIES
REMEMBER_COOKIE_SECURE = _SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Superset's default policy allows a tracking pixel and map tiles from other
# hosts; this one allows only Superset itself, so nothing leaves the machine.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        # The app's Dashboards page frames Superset.
        "frame-ancestors": _FRAME_ANCESTORS,
    },
    "content_security_policy_nonce_in": ["script-src"],
    # frame-ancestors replaces X-Frame-Options, whose SAMEORIGIN would block the app's iframe.
    "frame_options": None,
    "force_https": False,
    # Talisman sets SESSION_COOKIE_SECURE from this on every request.
    "session_cookie_secure": _SECURE_COOKIES,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
CONTENT_SECURITY_POLICY_WARNING = False

# Shared state. The demo is a single local process: Superset's metadata in
# a SQLite file (or SUPERSET_METADATA_URL), objects cached in memory, chart
# data never cached (the board figures come from the warehouse, refreshed by
# the ETL: the demo shows a change at once), filter state and explore form
# data in the metadata database (Superset's default), no Celery worker.
# Production runs several web workers and a Celery worker, so they share
# PostgreSQL and Redis instead (production.py; README.md lists the variables).
if SUPERSET_PROFILE == "production":
    _PRODUCTION = production.production(os.environ)
    SQLALCHEMY_DATABASE_URI = _PRODUCTION.metadata_url
    CACHE_CONFIG = _PRODUCTION.cache_config()
    DATA_CACHE_CONFIG = _PRODUCTION.data_cache_config()
    FILTER_STATE_CACHE_CONFIG = _PRODUCTION.filter_state_cache_config()
    EXPLORE_FORM_DATA_CACHE_CONFIG = _PRODUCTION.explore_form_data_cache_config()
    # Chart data is stored with Superset's global default timeout when the
    # chart, dataset and database set none, as the provisioned bundle does.
    CACHE_DEFAULT_TIMEOUT = _PRODUCTION.cache_default_timeout()
    CELERY_CONFIG = _PRODUCTION.celery_config()
    # SQL Lab's asynchronous results, written by the worker and read by the web.
    from flask_caching.backends.rediscache import RedisCache
    from redis import Redis

    RESULTS_BACKEND = RedisCache(
        host=Redis.from_url(_PRODUCTION.redis_url), key_prefix=_PRODUCTION.results_key_prefix()
    )
    # Rate limits (on when SUPERSET_ENV=production) counted across every web worker.
    RATELIMIT_STORAGE_URI = _PRODUCTION.redis_url
    RATELIMIT_STORAGE_OPTIONS = _PRODUCTION.ratelimit_storage_options()
else:
    SQLALCHEMY_DATABASE_URI = (
        os.environ.get("SUPERSET_METADATA_URL") or f"sqlite:///{SUPERSET_HOME / 'superset.db'}"
    )
    CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
    DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
    # Rate limiting needs a shared store; the local process keeps it in memory quietly.
    RATELIMIT_STORAGE_URI = "memory://"
# Dashboards answer each chart's query in the web request, from the data
# cache when it has the rows. GLOBAL_ASYNC_QUERIES (charts queued to the
# Celery worker, results pushed to the browser) stays off: the charts read
# small aggregated marts, and its JWT cookie and polling are not built for
# guest-token embedding.

# No phoning home, no tours.
SHOW_STACKTRACE = False

# Cross-origin requests: the embedded dashboards talk only to Superset itself.
ENABLE_CORS = False
