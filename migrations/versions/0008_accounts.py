"""accounts: single sign-on, invitations, password reset, two-factor, sign-in history

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_requests")),
    )
    op.create_index(op.f("ix_password_reset_requests_at"), "password_reset_requests", ["at"], unique=False)
    op.create_index(
        op.f("ix_password_reset_requests_client_address"),
        "password_reset_requests",
        ["client_address"],
        unique=False,
    )
    op.create_index(
        op.f("ix_password_reset_requests_email"), "password_reset_requests", ["email"], unique=False
    )
    op.create_table(
        "sso_login_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_path", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sso_login_states_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_login_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_login_states_state_hash")),
    )
    op.create_index(op.f("ix_sso_login_states_created_at"), "sso_login_states", ["created_at"], unique=False)
    op.create_table(
        "sso_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("group_claim", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sso_settings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_settings")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_sso_settings_organisation_id")),
    )
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('password_reset', 'invitation')", name=op.f("ck_account_tokens_purpose_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    op.create_index(op.f("ix_account_tokens_user_id"), "account_tokens", ["user_id"], unique=False)
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mfa_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
    )
    op.create_index(op.f("ix_mfa_recovery_codes_user_id"), "mfa_recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "sign_in_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.CheckConstraint(
            "method IN ('password', 'two_factor', 'recovery_code', 'sso')",
            name=op.f("ck_sign_in_events_method_allowed"),
        ),
        sa.CheckConstraint(
            "outcome IN ('signed_in', 'failed', 'locked', 'signed_out_everywhere')",
            name=op.f("ck_sign_in_events_outcome_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sign_in_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_events")),
    )
    op.create_index(op.f("ix_sign_in_events_at"), "sign_in_events", ["at"], unique=False)
    op.create_index(op.f("ix_sign_in_events_user_id"), "sign_in_events", ["user_id"], unique=False)
    op.create_table(
        "sso_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settings_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(
            ["settings_id"],
            ["sso_settings.id"],
            name=op.f("fk_sso_domains_settings_id_sso_settings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_sso_domains_domain")),
    )
    op.create_index(op.f("ix_sso_domains_settings_id"), "sso_domains", ["settings_id"], unique=False)
    op.create_table(
        "sso_group_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settings_id", sa.Integer(), nullable=False),
        sa.Column("group_value", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("organisation_admin", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'commissioner', 'provider', 'board')",
            name=op.f("ck_sso_group_roles_role_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["settings_id"],
            ["sso_settings.id"],
            name=op.f("fk_sso_group_roles_settings_id_sso_settings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_group_roles")),
        sa.UniqueConstraint(
            "settings_id", "group_value", name=op.f("uq_sso_group_roles_settings_id_group_value")
        ),
    )
    op.create_index(op.f("ix_sso_group_roles_settings_id"), "sso_group_roles", ["settings_id"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("organisation_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("mfa_secret", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("mfa_enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("mfa_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sso_issuer", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch_op.alter_column("role", existing_type=sa.VARCHAR(length=20), nullable=True)
        batch_op.alter_column("password_hash", existing_type=sa.VARCHAR(length=255), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_users_sso_issuer_sso_subject"), ["sso_issuer", "sso_subject"]
        )
        batch_op.drop_constraint(batch_op.f("ck_users_role_has_scope"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_role_has_scope"),
            "(role = 'admin') OR (role = 'board' AND partnership_id IS NOT NULL) "
            "OR (role IN ('commissioner', 'provider') AND organisation_id IS NOT NULL) "
            "OR (role IS NULL AND organisation_id IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_users_organisation_admin_has_organisation"),
            "NOT organisation_admin OR role IN ('commissioner', 'provider')",
        )
    # The defaults only filled the rows already there; the models set them from now on.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("must_change_password", server_default=None)
        batch_op.alter_column("organisation_admin", server_default=None)
        batch_op.alter_column("session_epoch", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_organisation_admin_has_organisation"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_role_has_scope"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_users_role_has_scope"),
            "(role = 'admin') OR (role = 'board' AND partnership_id IS NOT NULL) "
            "OR (role IN ('commissioner', 'provider') AND organisation_id IS NOT NULL)",
        )
        batch_op.drop_constraint(batch_op.f("uq_users_sso_issuer_sso_subject"), type_="unique")
        batch_op.alter_column("password_hash", existing_type=sa.VARCHAR(length=255), nullable=False)
        batch_op.alter_column("role", existing_type=sa.VARCHAR(length=20), nullable=False)
        for column in (
            "sso_subject",
            "sso_issuer",
            "mfa_last_step",
            "mfa_enabled_at",
            "mfa_secret",
            "session_epoch",
            "organisation_admin",
            "must_change_password",
        ):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_sso_group_roles_settings_id"), table_name="sso_group_roles")
    op.drop_table("sso_group_roles")
    op.drop_index(op.f("ix_sso_domains_settings_id"), table_name="sso_domains")
    op.drop_table("sso_domains")
    op.drop_index(op.f("ix_sign_in_events_user_id"), table_name="sign_in_events")
    op.drop_index(op.f("ix_sign_in_events_at"), table_name="sign_in_events")
    op.drop_table("sign_in_events")
    op.drop_index(op.f("ix_mfa_recovery_codes_user_id"), table_name="mfa_recovery_codes")
    op.drop_table("mfa_recovery_codes")
    op.drop_index(op.f("ix_account_tokens_user_id"), table_name="account_tokens")
    op.drop_table("account_tokens")
    op.drop_table("sso_settings")
    op.drop_index(op.f("ix_sso_login_states_created_at"), table_name="sso_login_states")
    op.drop_table("sso_login_states")
    op.drop_index(op.f("ix_password_reset_requests_email"), table_name="password_reset_requests")
    op.drop_index(op.f("ix_password_reset_requests_client_address"), table_name="password_reset_requests")
    op.drop_index(op.f("ix_password_reset_requests_at"), table_name="password_reset_requests")
    op.drop_table("password_reset_requests")
