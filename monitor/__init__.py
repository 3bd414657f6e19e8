"""The commissioning monitor: a Flask app built by `create_app`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from monitor import audit, security
from monitor.config import BaseConfig, load_config
from monitor.db import db
from monitor.logging_setup import configure_logging

login_manager = LoginManager()
csrf = CSRFProtect()


def create_app(config: BaseConfig | dict[str, Any] | None = None) -> Flask:
    """Build the app. `config` may be a settings object or overrides for tests."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = config if isinstance(config, BaseConfig) else load_config(Path(app.instance_path))
    app.config.from_object(settings)
    if isinstance(config, dict):
        app.config.update(config)
    configure_logging(app)

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("monitor"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    db.init_app(app)
    audit.install()
    csrf.init_app(app)
    login_manager.init_app(app)
    security.install(app)

    from etl import cli as etl_cli
    from monitor import errors_web, filters
    from monitor.admin.views import blueprint as admin_blueprint
    from monitor.api import blueprint as api_blueprint
    from monitor.auth import cli as auth_cli
    from monitor.auth.mfa_views import blueprint as mfa_blueprint
    from monitor.auth.password_views import blueprint as passwords_blueprint
    from monitor.auth.views import blueprint as auth_blueprint
    from monitor.auth.views import install_login
    from monitor.benchmarking import models as benchmarking_models  # noqa: F401 - its tables join the metadata
    from monitor.benchmarking.views import blueprint as benchmarking_blueprint
    from monitor.cli import explain_missing_schema, register_commands
    from monitor.contracts import decision_views, edit_views, history_views, views  # noqa: F401 - routes register on import
    from monitor.contracts.blueprint import blueprint as contracts_blueprint
    from monitor.dashboards.views import blueprint as dashboards_blueprint
    from monitor.health import blueprint as health_blueprint
    from monitor.kpis import cli as kpi_cli
    from monitor.kpis.routes import blueprint as kpis_blueprint
    from monitor.opendata import cli as opendata_cli
    from monitor.opendata import views as opendata_views  # noqa: F401 - routes register on import
    from monitor.people.account_views import blueprint as account_blueprint
    from monitor.people.views import blueprint as people_blueprint
    from monitor.reports import cli as reports_cli
    from monitor.reports.views import blueprint as reports_blueprint
    from monitor.sso.views import blueprint as sso_blueprint
    from monitor.statutory.views import blueprint as statutory_blueprint
    from monitor.worker import install as install_worker

    install_login(app, login_manager)
    filters.install(app)
    errors_web.install(app)
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(mfa_blueprint)
    app.register_blueprint(passwords_blueprint)
    app.register_blueprint(sso_blueprint)
    app.register_blueprint(people_blueprint)
    app.register_blueprint(account_blueprint)
    app.register_blueprint(contracts_blueprint)
    app.register_blueprint(admin_blueprint)
    app.register_blueprint(benchmarking_blueprint)
    app.register_blueprint(kpis_blueprint)
    app.register_blueprint(dashboards_blueprint)
    app.register_blueprint(reports_blueprint)
    app.register_blueprint(statutory_blueprint)
    app.register_blueprint(api_blueprint)
    app.register_blueprint(health_blueprint)
    csrf.exempt(api_blueprint)  # the API takes bearer tokens, never cookies
    auth_cli.register(app)
    register_commands(app)
    kpi_cli.register(app)
    reports_cli.register(app)
    opendata_cli.register(app)
    etl_cli.register(app)
    explain_missing_schema(app.cli)
    install_worker(app)  # Celery, and the outbox rows that feed it
    logging.getLogger(__name__).debug("app created", extra={"env": app.config["ENV_NAME"]})
    return app
