"""The registry's first schema: regions, institutions, parties, projects and stages, production
sites, contracts with installments, milestones with their due-date history, documents, users,
API tokens, login attempts, calendar overrides and the audit log.

Also inserts the 20 regions (17 oblasts and the cities of Astana, Almaty and Shymkent, ISO 3166-2
codes), because every regional record and every regional user refers to them.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_COURT = "Специализированный межрайонный экономический суд "
REGIONS = [
    ("KZ-10", "Абайская область", "Абай облысы", "Abai Region", _COURT + "области Абай"),
    (
        "KZ-11",
        "Акмолинская область",
        "Ақмола облысы",
        "Akmola Region",
        _COURT + "Акмолинской области",
    ),
    (
        "KZ-15",
        "Актюбинская область",
        "Ақтөбе облысы",
        "Aktobe Region",
        _COURT + "Актюбинской области",
    ),
    (
        "KZ-19",
        "Алматинская область",
        "Алматы облысы",
        "Almaty Region",
        _COURT + "Алматинской области",
    ),
    (
        "KZ-23",
        "Атырауская область",
        "Атырау облысы",
        "Atyrau Region",
        _COURT + "Атырауской области",
    ),
    (
        "KZ-27",
        "Западно-Казахстанская область",
        "Батыс Қазақстан облысы",
        "West Kazakhstan Region",
        _COURT + "Западно-Казахстанской области",
    ),
    (
        "KZ-31",
        "Жамбылская область",
        "Жамбыл облысы",
        "Jambyl Region",
        _COURT + "Жамбылской области",
    ),
    ("KZ-33", "Область Жетісу", "Жетісу облысы", "Jetisu Region", _COURT + "области Жетісу"),
    (
        "KZ-35",
        "Карагандинская область",
        "Қарағанды облысы",
        "Karaganda Region",
        _COURT + "Карагандинской области",
    ),
    (
        "KZ-39",
        "Костанайская область",
        "Қостанай облысы",
        "Kostanay Region",
        _COURT + "Костанайской области",
    ),
    (
        "KZ-43",
        "Кызылординская область",
        "Қызылорда облысы",
        "Kyzylorda Region",
        _COURT + "Кызылординской области",
    ),
    (
        "KZ-47",
        "Мангистауская область",
        "Маңғыстау облысы",
        "Mangystau Region",
        _COURT + "Мангистауской области",
    ),
    (
        "KZ-55",
        "Павлодарская область",
        "Павлодар облысы",
        "Pavlodar Region",
        _COURT + "Павлодарской области",
    ),
    (
        "KZ-59",
        "Северо-Казахстанская область",
        "Солтүстік Қазақстан облысы",
        "North Kazakhstan Region",
        _COURT + "Северо-Казахстанской области",
    ),
    (
        "KZ-61",
        "Туркестанская область",
        "Түркістан облысы",
        "Turkistan Region",
        _COURT + "Туркестанской области",
    ),
    ("KZ-62", "Область Ұлытау", "Ұлытау облысы", "Ulytau Region", _COURT + "области Ұлытау"),
    (
        "KZ-63",
        "Восточно-Казахстанская область",
        "Шығыс Қазақстан облысы",
        "East Kazakhstan Region",
        _COURT + "Восточно-Казахстанской области",
    ),
    ("KZ-71", "город Астана", "Астана қаласы", "Astana", _COURT + "города Астаны"),
    ("KZ-75", "город Алматы", "Алматы қаласы", "Almaty", _COURT + "города Алматы"),
    ("KZ-79", "город Шымкент", "Шымкент қаласы", "Shymkent", _COURT + "города Шымкента"),
]


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_events_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_key_at", ["key", "at"], unique=False)

    regions = op.create_table(
        "regions",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name_ru", sa.String(length=120), nullable=False),
        sa.Column("name_kk", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("court_name", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_institutions_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
    )
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institutions_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("bin", sa.String(length=12), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("head_position", sa.String(length=255), nullable=True),
        sa.Column("head_name", sa.String(length=255), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_parties_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("bin", name=op.f("uq_parties_bin")),
    )
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parties_name"), ["name"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("position", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=True),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("alert_mode", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_users_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_calendar_overrides_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.create_table(
        "production_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("arrangement", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("activity", sa.String(length=255), nullable=True),
        sa.Column("area_m2", sa.BigInteger(), nullable=True),
        sa.Column("employed", sa.Integer(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_production_sites_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["parties.id"], name=op.f("fk_production_sites_operator_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_production_sites_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_sites")),
    )
    with op.batch_alter_table("production_sites", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_production_sites_arrangement"), ["arrangement"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_production_sites_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=True),
        sa.Column("investor_id", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("land_area_ha", sa.BigInteger(), nullable=True),
        sa.Column("estimated_cost", sa.BigInteger(), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_projects_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"], ["parties.id"], name=op.f("fk_projects_investor_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_projects_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_region_code"), ["region_code"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("penalty_rate_percent", sa.BigInteger(), nullable=False),
        sa.Column("penalty_base", sa.String(length=32), nullable=False),
        sa.Column("penalty_cap_percent", sa.BigInteger(), nullable=True),
        sa.Column("penalty_clause", sa.String(length=255), nullable=True),
        sa.Column("response_days", sa.Integer(), nullable=False),
        sa.Column("response_working", sa.Boolean(), nullable=False),
        sa.Column("grace_working_days", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(project_id IS NULL) <> (site_id IS NULL)", name=op.f("ck_contracts_project_xor_site")
        ),
        sa.ForeignKeyConstraint(
            ["contractor_id"], ["parties.id"], name=op.f("fk_contracts_contractor_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["parties.id"], name=op.f("fk_contracts_customer_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["users.id"], name=op.f("fk_contracts_officer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_contracts_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_contracts_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["production_sites.id"], name=op.f("fk_contracts_site_id_production_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint(
            "customer_id",
            "number",
            "signed_on",
            name=op.f("uq_contracts_customer_id_number_signed_on"),
        ),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contracts_contractor_id"), ["contractor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contracts_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_site_id"), ["site_id"], unique=False)

    op.create_table(
        "project_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("actual_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_stages_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_stages")),
        sa.UniqueConstraint("project_id", "kind", name=op.f("uq_project_stages_project_id_kind")),
    )
    op.create_table(
        "installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_installments_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installments")),
    )
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_installments_contract_id"), ["contract_id"], unique=False
        )

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("obligor", sa.String(length=32), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("relative_to_id", sa.Integer(), nullable=True),
        sa.Column("relative_amount", sa.Integer(), nullable=True),
        sa.Column("relative_unit", sa.String(length=32), nullable=True),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "relative_to_id IS NULL OR (relative_amount IS NOT NULL AND relative_unit IS NOT NULL)",
            name=op.f("ck_milestones_relative_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_milestones_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["relative_to_id"],
            ["milestones.id"],
            name=op.f("fk_milestones_relative_to_id_milestones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["users.id"], name=op.f("fk_milestones_responsible_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestones_contract_id"), ["contract_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_milestones_relative_to_id"), ["relative_to_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_milestones_responsible_id"), ["responsible_id"], unique=False
        )
        batch_op.create_index("ix_milestones_status_due_on", ["status", "due_on"], unique=False)

    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=8), nullable=False),
        sa.Column("document_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN project_id IS NULL THEN 0 ELSE 1 END + CASE WHEN site_id IS NULL THEN 0 ELSE 1 END + CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_documents_one_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_documents_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_documents_milestone_id_milestones"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_documents_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_documents_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["production_sites.id"],
            name=op.f("fk_documents_site_id_production_sites"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_documents_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_site_id"), ["site_id"], unique=False)

    op.create_table(
        "due_date_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("old_due_on", sa.Date(), nullable=True),
        sa.Column("new_due_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["users.id"], name=op.f("fk_due_date_changes_changed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_due_date_changes_milestone_id_milestones"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_date_changes")),
    )
    with op.batch_alter_table("due_date_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_due_date_changes_milestone_id"), ["milestone_id"], unique=False
        )

    op.bulk_insert(
        regions,
        [
            {"code": code, "name_ru": ru, "name_kk": kk, "name_en": en, "court_name": court}
            for code, ru, kk, en, court in REGIONS
        ],
    )


def downgrade():
    with op.batch_alter_table("due_date_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_due_date_changes_milestone_id"))

    op.drop_table("due_date_changes")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_site_id"))
        batch_op.drop_index(batch_op.f("ix_documents_region_code"))
        batch_op.drop_index(batch_op.f("ix_documents_project_id"))
        batch_op.drop_index(batch_op.f("ix_documents_contract_id"))

    op.drop_table("documents")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_milestones_status_due_on")
        batch_op.drop_index(batch_op.f("ix_milestones_responsible_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_relative_to_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_contract_id"))

    op.drop_table("milestones")
    with op.batch_alter_table("installments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_installments_contract_id"))

    op.drop_table("installments")
    op.drop_table("project_stages")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_site_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_region_code"))
        batch_op.drop_index(batch_op.f("ix_contracts_project_id"))
        batch_op.drop_index(batch_op.f("ix_contracts_number"))
        batch_op.drop_index(batch_op.f("ix_contracts_contractor_id"))

    op.drop_table("contracts")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_projects_region_code"))

    op.drop_table("projects")
    with op.batch_alter_table("production_sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_sites_region_code"))
        batch_op.drop_index(batch_op.f("ix_production_sites_arrangement"))

    op.drop_table("production_sites")
    op.drop_table("calendar_overrides")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parties_name"))

    op.drop_table("parties")
    with op.batch_alter_table("institutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institutions_region_code"))

    op.drop_table("institutions")
    op.drop_table("regions")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_key_at")

    op.drop_table("login_attempts")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_region_code"))
        batch_op.drop_index("ix_audit_events_entity")
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))

    op.drop_table("audit_events")
