"""Demo data built from the source documents (shared/seeds).

Barking & Dagenham's 2013 service review (six funders, £823,500 in 2013/14;
IDSVA contract to Jan 2014; refuge to Mar 2014, extended six months;
perpetrator programme decommissioned; counselling proposed for
decommissioning), Halton's children's service (4 Nov 2013, 1+1 years) and
the Tri-borough VAWG programme (three councils, extended a year).
Providers without a public name in the papers are marked illustrative.
Loading is idempotent: records are found by name or reference first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import secret_box
from monitor.audit import Actor, acting_as
from monitor.auth import services as auth_services
from monitor.auth.models import Organisation, Partnership, User
from monitor.benchmarking.demo import load_demo_benchmarking
from monitor.contracts import services
from monitor.contracts.models import Contract, Milestone
from monitor.db import Database
from monitor.model_helpers import utcnow
from monitor.reports.models import PartnershipMeeting
from monitor.statutory.demo import load_demo_safe_accommodation

DEMO_PASSWORD = "demo-password-2013"  # noqa: S105 - printed for the demo on purpose
# Admins must use two-factor authentication; the demo admin is enrolled with
# this published secret, printed with the sign-ins, to add to an authenticator app.
DEMO_TOTP_SECRET = "DEMOADMINTOTPSECRETFORMAKEDEMO22"  # noqa: S105 - printed for the demo on purpose

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "London Borough of Barking and Dagenham",
        "kind": "commissioner",
        "gss_code": "E09000002",
    },
    {"name": "NHS Barking and Dagenham CCG", "kind": "commissioner"},
    {"name": "Halton Borough Council", "kind": "commissioner", "gss_code": "E06000006"},
    {"name": "Westminster City Council", "kind": "commissioner", "gss_code": "E09000033"},
    {
        "name": "Royal Borough of Kensington and Chelsea",
        "kind": "commissioner",
        "gss_code": "E09000020",
    },
    {
        "name": "London Borough of Hammersmith and Fulham",
        "kind": "commissioner",
        "gss_code": "E09000013",
    },
    {"name": "Barking and Dagenham Public Health", "kind": "funder"},
    {"name": "Barking and Dagenham Housing Revenue Account", "kind": "funder"},
    {"name": "Metropolitan Police Service", "kind": "funder"},
    {"name": "Mayor's Office for Policing and Crime (MOPAC)", "kind": "funder"},
    {"name": "Refuge", "kind": "provider", "charity_number": "277424"},
    {
        "name": "Domestic Violence Intervention Project (DVIP)",
        "kind": "provider",
        "charity_number": "1048282",
    },
    {"name": "The Woman's Trust", "kind": "provider", "charity_number": "1082016"},
    {"name": "East London Rape Crisis Centre", "kind": "provider"},
    {"name": "Halton Children's Recovery Service (illustrative)", "kind": "provider"},
    {"name": "Tri-borough VAWG Consortium (illustrative)", "kind": "provider"},
]

PARTNERSHIPS: list[dict[str, Any]] = [
    {
        "name": "Barking and Dagenham Health and Wellbeing Board",
        "members": ["London Borough of Barking and Dagenham", "NHS Barking and Dagenham CCG"],
    },
    {"name": "Halton Health and Wellbeing Board", "members": ["Halton Borough Council"]},
    {"name": "Halton Domestic Abuse Forum", "members": ["Halton Borough Council"]},
    {
        "name": "Tri-borough VAWG Partnership",
        "members": [
            "Westminster City Council",
            "Royal Borough of Kensington and Chelsea",
            "London Borough of Hammersmith and Fulham",
        ],
    },
]

# Board meetings after the demo's "as at" date, 6 May 2014: Barking and
# Dagenham's pack is due that very day (five working days before 13 May), so a
# run of `flask reports deliver-packs` sends it; the others wait.
MEETINGS: list[tuple[str, date, str]] = [
    ("Barking and Dagenham Health and Wellbeing Board", date(2014, 5, 13), "Quarterly performance review"),
    ("Barking and Dagenham Health and Wellbeing Board", date(2014, 7, 15), ""),
    ("Halton Domestic Abuse Forum", date(2014, 6, 10), "Forum meeting"),
]

LBBD = "London Borough of Barking and Dagenham"
CCG = "NHS Barking and Dagenham CCG"

# Who paid for what in 2013/14. The board paper gives each funder's total
# (Appendix 3 was not published), so the split across services is
# illustrative; each funder's total matches the paper exactly.
BD_FUNDING_2013: dict[str, list[tuple[str, str, int]]] = {
    "LBBD-DV-001": [
        ("Barking and Dagenham Public Health", "Public Health Grant", 130_000),
        (CCG, "CCG programme budget", 120_000),
    ],
    "LBBD-DV-002": [
        (LBBD, "Council general fund", 60_000),
        ("Barking and Dagenham Public Health", "Public Health Grant", 138_000),
        ("Barking and Dagenham Housing Revenue Account", "Housing Revenue Account", 72_000),
    ],
    "LBBD-DV-004": [(LBBD, "Council general fund", 40_500)],
    "LBBD-DV-005": [
        (LBBD, "Council general fund", 64_000),
        ("Metropolitan Police Service", "Police partnership funding", 39_000),
    ],
    "LBBD-DV-006": [("Barking and Dagenham Public Health", "Public Health Grant", 100_000)],
    "LBBD-DV-007": [
        (LBBD, "Council general fund", 40_000),
        ("Mayor's Office for Policing and Crime (MOPAC)", "London Crime Prevention Fund", 20_000),
    ],
}


def _contracts() -> list[dict[str, Any]]:
    return [
        {
            "reference": "LBBD-DV-001",
            "title": "Independent Domestic and Sexual Violence Advocacy (community and maternity)",
            "description": "Specialist advocacy for high-risk victims in the community and at the maternity "
            "service of Barking, Havering and Redbridge University Hospitals. Commissioned in 2010 for three "
            "years as one contract.",
            "service_type": "IDVA/IDSVA",
            "category": "core",
            "agreement_type": "contract",
            "provider": "Refuge",
            "lead": CCG,
            "partners": [LBBD],
            "cohorts": ["adults", "pregnant women"],
            "award_date": date(2010, 12, 1),
            "start_date": date(2011, 2, 1),
            "end_date": date(2014, 1, 31),
            "notice": 6,
            "annual_value": 250_000,
            "initial_value": 750_000,
            "manager": "Domestic violence commissioning lead, NHS Barking and Dagenham CCG",
            "options": [],
        },
        {
            "reference": "LBBD-DV-002",
            "title": "Refuge supported accommodation",
            "description": "Refuge places for women and children fleeing domestic violence. Three-year contract.",
            "service_type": "refuge",
            "category": "core",
            "agreement_type": "contract",
            "provider": "Refuge",
            "lead": LBBD,
            "partners": [CCG],
            "cohorts": ["adults", "children and young people"],
            "award_date": date(2011, 3, 1),
            "start_date": date(2011, 4, 1),
            "end_date": date(2014, 3, 31),
            "notice": 6,
            "annual_value": 270_000,
            "initial_value": 810_000,
            "manager": "Community safety commissioning manager, LBBD",
            "options": [6],
            "extension": {
                "effective_date": date(2013, 9, 26),
                "rationale": "Extend the existing contract with the Refuge for a further six months while "
                "provision for 2014/15 is agreed by commissioners (service review recommendation).",
                "approved_by": "Barking and Dagenham Health and Wellbeing Board",
                "minute": "HWB 2013/09 item 7",
            },
        },
        {
            "reference": "LBBD-DV-003",
            "title": "Community domestic violence perpetrator programme",
            "description": "26-week community-based programme, including perpetrators who have not been "
            "convicted. 16 completions in 2011/12.",
            "service_type": "perpetrator programme",
            "category": "supplementary",
            "agreement_type": "contract",
            "provider": "Domestic Violence Intervention Project (DVIP)",
            "lead": LBBD,
            "partners": [],
            "cohorts": ["perpetrators"],
            "award_date": date(2007, 3, 1),
            "start_date": date(2007, 4, 1),
            "end_date": date(2015, 3, 31),
            "notice": 3,
            "annual_value": 34_000,
            "initial_value": 272_000,
            "manager": "Community safety commissioning manager, LBBD",
            "options": [],
            "ending": {
                "kind": "decommissioning",
                "effective_date": date(2013, 3, 31),
                "rationale": "Not cost effective: only 16 people completed the 26-week course in 2011/12. "
                "Decommissioned to contribute to the Council's cost savings.",
                "approved_by": "LBBD Cabinet",
                "minute": "Cabinet 2012/13 savings",
            },
        },
        {
            "reference": "LBBD-DV-004",
            "title": "Specialist counselling for women (up to 18 weeks)",
            "description": "Counselling and support to address the emotional and psychological impact of "
            "domestic violence. The service review recommends reviewing it with a view to decommissioning.",
            "service_type": "counselling",
            "category": "supplementary",
            "agreement_type": "grant",
            "provider": "The Woman's Trust",
            "lead": LBBD,
            "partners": [],
            "cohorts": ["adults"],
            "award_date": date(2012, 3, 1),
            "start_date": date(2012, 4, 1),
            "end_date": date(2014, 3, 31),
            "notice": 3,
            "annual_value": 40_500,
            "initial_value": 81_000,
            "manager": "Community safety commissioning manager, LBBD",
            "options": [12],
        },
        {
            "reference": "LBBD-DV-005",
            "title": "MARAC co-ordination and Sanctuary scheme",
            "description": "Co-ordinates the multi-agency risk assessment conference and referrals to "
            "Sanctuary, which helps survivors stay safely in their own homes.",
            "service_type": "MARAC co-ordination",
            "category": "supporting",
            "agreement_type": "SLA",
            "provider": "Refuge",
            "lead": LBBD,
            "partners": [],
            "cohorts": ["adults"],
            "award_date": date(2013, 3, 1),
            "start_date": date(2013, 4, 1),
            "end_date": date(2016, 3, 31),
            "notice": 6,
            "annual_value": 103_000,
            "initial_value": 309_000,
            "manager": "Domestic violence and hate crime manager, LBBD",
            "options": [12, 12],
        },
        {
            "reference": "LBBD-DV-006",
            "title": "Children's therapeutic support and MASH domestic violence advocate",
            "description": "Therapeutic support for children affected by domestic violence and an advocate in "
            "the Multi Agency Safeguarding Hub. First direct service for this group (from April 2013).",
            "service_type": "children's therapeutic",
            "category": "core",
            "agreement_type": "contract",
            "provider": "Refuge",
            "lead": LBBD,
            "partners": [],
            "cohorts": ["children and young people"],
            "award_date": date(2013, 3, 15),
            "start_date": date(2013, 4, 1),
            "end_date": date(2015, 3, 31),
            "notice": 6,
            "annual_value": 100_000,
            "initial_value": 200_000,
            "manager": "Children's commissioning manager, LBBD",
            "options": [12],
        },
        {
            "reference": "LBBD-DV-007",
            "title": "Rape crisis helpline and counselling (east London)",
            "description": "Telephone support and counselling shared across the east London boroughs.",
            "service_type": "helpline",
            "category": "supporting",
            "agreement_type": "grant",
            "provider": "East London Rape Crisis Centre",
            "lead": LBBD,
            "partners": [],
            "cohorts": ["adults"],
            "award_date": date(2013, 3, 1),
            "start_date": date(2013, 4, 1),
            "end_date": date(2014, 3, 31),
            "notice": 3,
            "annual_value": 60_000,
            "initial_value": 60_000,
            "manager": "Community safety commissioning manager, LBBD",
            "options": [12],
        },
        {
            "reference": "HBC-CYP-DA-01",
            "title": "Domestic abuse service for children, young people and families",
            "description": "Support to parents who are victims; safety planning with children still in the "
            "situation; longer-term therapeutic recovery work; support to social care with pre-court "
            "proceedings.",
            "service_type": "children's therapeutic",
            "category": "core",
            "agreement_type": "contract",
            "provider": "Halton Children's Recovery Service (illustrative)",
            "lead": "Halton Borough Council",
            "partners": [],
            "cohorts": ["children and young people"],
            "award_date": date(2013, 9, 30),
            "start_date": date(2013, 11, 4),
            "end_date": date(2014, 11, 3),
            "notice": 3,
            "annual_value": 150_000,
            "initial_value": 150_000,
            "manager": "Commissioning manager, Children and Enterprise, Halton Borough Council",
            "options": [12],
            "funding": [
                ("Halton Borough Council", "Children's specialist budget", "2013/14", 62_500),
                ("Halton Borough Council", "Children's specialist budget", "2014/15", 87_500),
            ],
            "milestones": [
                ("Provider development day", date(2013, 6, 28), date(2013, 6, 28)),
                ("Evaluate tenders", date(2013, 8, 9), date(2013, 8, 9)),
                ("Interviews", date(2013, 9, 6), date(2013, 9, 6)),
                ("Award contract", date(2013, 9, 30), date(2013, 9, 30)),
                ("Mobilisation complete", date(2013, 10, 31), date(2013, 10, 31)),
                ("Service starts", date(2013, 11, 4), date(2013, 11, 4)),
            ],
        },
        {
            "reference": "TRI-VAWG-01",
            "title": "Tri-borough VAWG programme for children and young people",
            "description": "Domestic abuse specialists in early years teams, a young people's independent "
            "advocacy service, support for schools and children's workers in refuges, jointly commissioned "
            "by three councils.",
            "service_type": "children's advocacy",
            "category": "core",
            "agreement_type": "contract",
            "provider": "Tri-borough VAWG Consortium (illustrative)",
            "lead": "Westminster City Council",
            "partners": [
                "Royal Borough of Kensington and Chelsea",
                "London Borough of Hammersmith and Fulham",
            ],
            "cohorts": ["children and young people", "adults"],
            "award_date": date(2011, 2, 1),
            "start_date": date(2011, 4, 1),
            "end_date": date(2013, 3, 31),
            "notice": 6,
            "annual_value": 420_000,
            "initial_value": 840_000,
            "manager": "Tri-borough VAWG strategic lead",
            "options": [12, 12],
            "extension": {
                "effective_date": date(2013, 1, 15),
                "rationale": "Programme extended for another year while the partnership reviews "
                "commissioning arrangements.",
                "approved_by": "Tri-borough Executive",
                "minute": "TBE 2013/01",
            },
            "funding": [
                ("Westminster City Council", "Community safety budget", "2013/14", 160_000),
                (
                    "Royal Borough of Kensington and Chelsea",
                    "Community safety budget",
                    "2013/14",
                    130_000,
                ),
                (
                    "London Borough of Hammersmith and Fulham",
                    "Community safety budget",
                    "2013/14",
                    130_000,
                ),
            ],
        },
    ]


USERS: list[dict[str, str]] = [
    {"email": "admin@demo.example", "name": "Alex Admin", "role": "admin"},
    {
        "email": "commissioner@lbbd.demo.example",
        "name": "Chris Commissioner",
        "role": "commissioner",
        "organisation": LBBD,
    },
    {
        "email": "commissioner@bdccg.demo.example",
        "name": "Dana Commissioner",
        "role": "commissioner",
        "organisation": CCG,
    },
    {
        "email": "commissioner@halton.demo.example",
        "name": "Harper Commissioner",
        "role": "commissioner",
        "organisation": "Halton Borough Council",
    },
    {
        "email": "commissioner@westminster.demo.example",
        "name": "Wren Commissioner",
        "role": "commissioner",
        "organisation": "Westminster City Council",
    },
    {
        "email": "provider@refuge.demo.example",
        "name": "Priya Provider",
        "role": "provider",
        "organisation": "Refuge",
    },
    {
        # Refuge's own administrator: manages Refuge's people (delegated administration).
        "email": "people@refuge.demo.example",
        "name": "Robin Refuge-Admin",
        "role": "provider",
        "organisation": "Refuge",
        "organisation_admin": "yes",
    },
    {
        "email": "provider@halton-recovery.demo.example",
        "name": "Pat Provider",
        "role": "provider",
        "organisation": "Halton Children's Recovery Service (illustrative)",
    },
    {
        "email": "board@bd-hwb.demo.example",
        "name": "Blake Board",
        "role": "board",
        "partnership": "Barking and Dagenham Health and Wellbeing Board",
    },
    {
        "email": "board@halton-daf.demo.example",
        "name": "Bailey Board",
        "role": "board",
        "partnership": "Halton Domestic Abuse Forum",
    },
]


def _org(session: Session, name: str) -> Organisation:
    return session.execute(select(Organisation).where(Organisation.name == name)).scalar_one()


def _load_organisations(session: Session) -> int:
    added = 0
    for spec in ORGANISATIONS:
        if session.scalar(select(Organisation.id).where(Organisation.name == spec["name"])) is None:
            auth_services.create_organisation(session, **spec)
            added += 1
    for spec in PARTNERSHIPS:
        if session.scalar(select(Partnership.id).where(Partnership.name == spec["name"])) is None:
            session.add(Partnership(name=spec["name"], members=[_org(session, n) for n in spec["members"]]))
            added += 1
    session.flush()
    for board, on, title in MEETINGS:
        partnership = session.execute(select(Partnership).where(Partnership.name == board)).scalar_one()
        known = select(PartnershipMeeting.id).where(
            PartnershipMeeting.partnership_id == partnership.id, PartnershipMeeting.meeting_date == on
        )
        if session.scalar(known) is None:
            session.add(PartnershipMeeting(partnership=partnership, meeting_date=on, title=title))
    session.flush()
    return added


def _load_users(session: Session) -> list[tuple[str, str, str]]:
    logins = []
    for spec in USERS:
        if session.scalar(select(User.id).where(User.email == spec["email"])) is None:
            org = _org(session, spec["organisation"]) if "organisation" in spec else None
            board = (
                session.execute(
                    select(Partnership).where(Partnership.name == spec["partnership"])
                ).scalar_one()
                if "partnership" in spec
                else None
            )
            user = auth_services.create_user(
                session,
                email=spec["email"],
                name=spec["name"],
                role=spec["role"],
                password=DEMO_PASSWORD,
                organisation=org,
                partnership=board,
            )
            user.organisation_admin = spec.get("organisation_admin") == "yes"
            if user.role == "admin":
                user.mfa_secret = secret_box.encrypt(DEMO_TOTP_SECRET)
                user.mfa_enabled_at = utcnow()
        role = spec["role"] + (" (organisation admin)" if spec.get("organisation_admin") else "")
        password = DEMO_PASSWORD + (
            f", then a code from two-factor secret {DEMO_TOTP_SECRET}" if spec["role"] == "admin" else ""
        )
        logins.append((spec["email"], role, password))
    return logins


def _commissioner_for(session: Session, lead_name: str) -> User:
    """The demo commissioner who records a contract (audit shows who)."""
    lead = _org(session, lead_name)
    return session.execute(
        select(User).where(User.organisation_id == lead.id, User.role == "commissioner")
    ).scalar_one()


def _load_contract(session: Session, spec: dict[str, Any]) -> bool:
    if session.scalar(select(Contract.id).where(Contract.reference == spec["reference"])) is not None:
        return False
    user = _commissioner_for(session, spec["lead"])
    fields = services.ContractFields(
        reference=spec["reference"],
        title=spec["title"],
        description=spec["description"],
        service_type=spec["service_type"],
        category=spec["category"],
        agreement_type=spec["agreement_type"],
        provider_id=_org(session, spec["provider"]).id,
        lead_commissioner_id=_org(session, spec["lead"]).id,
        partner_commissioner_ids=[_org(session, name).id for name in spec["partners"]],
        cohorts=spec["cohorts"],
        award_date=spec["award_date"],
        start_date=spec["start_date"],
        end_date=spec["end_date"],
        notice_period_months=spec["notice"],
        annual_value=Decimal(spec["annual_value"]),
        initial_value=Decimal(spec["initial_value"]),
        contract_manager=spec["manager"],
        option_months=spec["options"],
    )
    contract = services.create_contract(session, user, fields)
    if "extension" in spec:
        ext = spec["extension"]
        services.exercise_extension(
            session,
            user,
            contract,
            None,
            services.AmendmentFields(
                kind="extension",
                effective_date=ext["effective_date"],
                rationale=ext["rationale"],
                approved_by=ext["approved_by"],
                board_minute_reference=ext["minute"],
            ),
        )
    if "ending" in spec:
        end = spec["ending"]
        services.record_amendment(
            session,
            user,
            contract,
            services.AmendmentFields(
                kind=end["kind"],
                effective_date=end["effective_date"],
                rationale=end["rationale"],
                approved_by=end["approved_by"],
                board_minute_reference=end["minute"],
            ),
        )
    funding = spec.get("funding") or [
        (funder, stream, "2013/14", amount)
        for funder, stream, amount in BD_FUNDING_2013.get(spec["reference"], [])
    ]
    for funder, stream, year, amount in funding:
        services.add_funding_line(
            session,
            user,
            contract,
            services.FundingFields(
                funder_id=_org(session, funder).id,
                funding_stream=stream,
                financial_year=year,
                amount=Decimal(amount),
            ),
        )
    for title, due, met in spec.get("milestones", []):
        contract.milestones.append(Milestone(title=title, due_date=due, met_on=met))
    session.flush()
    return True


def load_demo(database: Database, progress: Callable[[str], None] = lambda _step: None) -> str:
    """Load everything in one transaction; running it again adds nothing."""
    with acting_as(Actor(None, "demo data")), database.transaction() as session:
        progress("organisations and partnerships")
        organisations = _load_organisations(session)
        progress("users")
        logins = _load_users(session)
        specs = _contracts()
        added = 0
        for number, spec in enumerate(specs, start=1):
            progress(f"contract {number}/{len(specs)} {spec['reference']}")
            added += _load_contract(session, spec)
        progress("safe accommodation contracts")
        load_demo_safe_accommodation(session)
        progress("benchmarking")
        load_demo_benchmarking(session)
    current_app.extensions["demo_logins"] = logins
    return f"{organisations} organisations and partnerships, {added} contracts added"
