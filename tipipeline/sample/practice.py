"""The synthetic practice library (issue 16): 42 form rows (36 submissions, 6 dirty rows) in two export formats and the
reviewers' decisions, with the states, refusals and slips a real library has.

What it is built to show (the manifest's `practice` entry lists it, so tests can hold the pipeline
to it): entries published with consent; published entries without consent (never shown); entries
awaiting review, sent back for changes or withdrawn (one after it had been published); one entry
whose text holds an e-mail address and one a telephone number (held back by the screen); one whose
screen match a reviewer cleared (a ward named after a person); and dirty rows in both exports and
in the reviews file. Nothing here is random: every entry is written out, so the files never move.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

# (title, organisation as typed, service area, principles, domains, what it does, who it is for,
#  evidence of effect, contact role, consent, history of (state, reviewer, date, level, reason))
PUB = "published"
ENTRIES = [
    (
        "Reflective supervision for youth workers",
        "Hackney",
        "Youth services",
        "safety; trustworthiness",
        "staff_wellbeing; training_workforce",
        "Monthly group reflective supervision for detached youth workers, led by a clinical psychologist.",
        "Youth workers in contact with young people affected by violence.",
        "Staff survey before and after: burnout scores fell over a year.",
        "Head of Youth Services",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-06-02", "level_2", "Before-and-after staff survey, no comparison group.")],
    ),
    (
        "Trauma-informed custody suite",
        "Central West BCU",
        "Custody",
        "safety; choice",
        "environment",
        "Custody staff trained to explain each step and offer choices where the law allows; quieter holding rooms.",
        "Detained people, particularly children and young adults.",
        "Fewer use-of-force incidents recorded in the suite after the change.",
        "Custody Inspector",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-06-10", "level_2", "Recorded incidents before and after; no comparison suite.")],
    ),
    (
        "Lived-experience panel for commissioning",
        "North East London ICB",
        "Commissioning",
        "empowerment; collaboration",
        "engagement_lived_experience; funding_commissioning",
        "A paid panel of people with lived experience of violence scores every violence-reduction tender.",
        "Commissioners and providers of violence-reduction services.",
        "A logic model; an evaluation is planned for 2026.",
        "Commissioning Manager",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-06-12", "nl2", "A clear theory of change; no outcome evaluation yet.")],
    ),
    (
        "Routine enquiry about adversity in sexual health clinics",
        "NHS North Central London Integrated Care Board",
        "Sexual health",
        "safety; trustworthiness; choice",
        "screening_assessment",
        "Clinicians ask every patient about adversity and offer a warm referral.",
        "Adults attending sexual health clinics.",
        "A cluster trial across six clinics found more referrals taken up than in usual care.",
        "Clinical Lead for Sexual Health",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-07-01", "level_3", "One cluster-randomised trial with a comparison group.")],
    ),
    (
        "Safe spaces in libraries after school",
        "Lewisham",
        "Libraries",
        "safety; collaboration",
        "environment; cross_sector_collaboration",
        "Libraries stay open with youth workers present on weekday evenings.",
        "Young people aged 11 to 18.",
        "Attendance counts only.",
        "Libraries Manager",
        "Yes",
        [
            (
                PUB,
                "VRU reviewer A",
                "2025-07-03",
                "nl2",
                "Described with its rationale; attendance is not an outcome.",
            )
        ],
    ),
    (
        "Trauma-informed school exclusions review",
        "Southwark",
        "Education",
        "empowerment; cultural_consideration",
        "policy; monitoring_quality",
        "Every proposed permanent exclusion is reviewed against a trauma-informed checklist with the family.",
        "Pupils at risk of permanent exclusion and their families.",
        "Exclusions fell against neighbouring boroughs over two years (matched comparison).",
        "Head of Inclusion",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-07-08", "level_3", "Quasi-experimental: matched comparison boroughs.")],
    ),
    (
        "Staff wellbeing check-ins after critical incidents",
        "Metropolitan Police Service",
        "Response policing",
        "safety; trustworthiness",
        "staff_wellbeing",
        "A structured check-in within 72 hours of any critical incident, with a route to specialist support.",
        "Officers and staff attending critical incidents.",
        "Uptake recorded; sickness absence compared with teams not yet using it.",
        "Wellbeing Lead",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-07-15", "level_2", "Comparison with teams not yet using it, not randomised.")],
    ),
    (
        "Co-produced housing allocations letter",
        "Newham",
        "Housing",
        "choice; empowerment",
        "policy; engagement_lived_experience",
        "Residents with lived experience rewrote the allocations letters in plain, non-blaming language.",
        "Applicants for social housing.",
        "Complaints about letters fell after the change.",
        "Housing Services Manager",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-07-20", "level_2", "Complaints before and after; no comparison.")],
    ),
    (
        "Trauma-informed leadership programme",
        "Camden",
        "Corporate",
        "trustworthiness; collaboration",
        "governance_leadership; training_workforce",
        "A six-month programme for senior leaders on trauma-informed decision-making.",
        "Directors and heads of service.",
        "Participants' self-rated confidence rose.",
        "Organisational Development Lead",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-08-01", "nl2", "Self-rated confidence is not an outcome for residents.")],
    ),
    (
        "Joint triage of domestic abuse referrals",
        "Croydon",
        "Community safety",
        "collaboration; safety",
        "cross_sector_collaboration; screening_assessment",
        "Police, health and council staff triage referrals together each morning.",
        "Victims and survivors of domestic abuse.",
        "Two evaluations with comparison areas found faster safety planning.",
        "Community Safety Manager",
        "Yes",
        [
            (
                PUB,
                "VRU reviewer B",
                "2025-08-05",
                "level_4",
                "Two comparison-group evaluations, one in ordinary practice.",
            )
        ],
    ),
    (
        "Trauma-informed commissioning framework",
        "Greenwich",
        "Commissioning",
        "collaboration; empowerment",
        "funding_commissioning",
        "Contracts require providers to show how they apply the six principles.",
        "Providers of commissioned services.",
        "None yet.",
        "Strategic Commissioner",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-08-07", "nl2", "A logic model and contract clauses; no evaluation.")],
    ),
    (
        "Evaluation toolkit for small charities",
        "Tower Hamlets",
        "Voluntary sector",
        "empowerment; collaboration",
        "evaluation",
        "A simple outcomes toolkit and coaching for small charities funded by the council.",
        "Small voluntary organisations.",
        "Charities report more consistent outcome data.",
        "Voluntary Sector Lead",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-08-12", "nl2", "Describes monitoring, not outcomes for people.")],
    ),
    (
        "Calm rooms in emergency departments",
        "South West London ICB",
        "Emergency care",
        "safety; choice",
        "environment",
        "Quiet rooms for people in distress waiting in A&E, staffed by trained navigators.",
        "Patients in distress in emergency departments.",
        "Incidents of aggression fell in two hospitals with rooms against two without.",
        "Emergency Department Matron",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-08-20", "level_3", "Comparison with two similar hospitals.")],
    ),
    (
        "Restorative conversations in children's homes",
        "Haringey",
        "Children's social care",
        "trustworthiness; empowerment",
        "training_workforce",
        "Residential staff trained in restorative conversations instead of sanctions.",
        "Children in residential care.",
        "Police call-outs from the homes fell over a year.",
        "Residential Services Manager",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-08-22", "level_2", "Call-outs before and after; no comparison.")],
    ),
    (
        "Stop and search debriefs with young people",
        "Central South BCU",
        "Neighbourhood policing",
        "trustworthiness; cultural_consideration",
        "engagement_lived_experience; monitoring_quality",
        "Young people review body-worn footage of searches with officers and give feedback.",
        "Young people and officers.",
        "Complaints fell; officers report better understanding.",
        "Neighbourhood Inspector",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-09-01", "level_2", "Before-and-after complaints data.")],
    ),
    (
        "Wellbeing hub for social workers",
        "Brent",
        "Children's social care",
        "safety",
        "staff_wellbeing",
        "Drop-in wellbeing hub with peer support and access to counselling.",
        "Social workers and family support workers.",
        "Staff turnover compared with the year before.",
        "Principal Social Worker",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-09-03", "level_2", "Turnover before and after.")],
    ),
    (
        "Trauma-informed governance checklist",
        "Islington",
        "Corporate",
        "trustworthiness",
        "governance_leadership; policy",
        "Every cabinet report answers five trauma-informed questions.",
        "Councillors and senior officers.",
        "None yet.",
        "Head of Policy",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-09-05", "nl2", "A clear rationale; no evaluation.")],
    ),
    (
        "Florence Nightingale Ward sensory garden",
        "South East London ICB",
        "Mental health",
        "safety; choice",
        "environment",
        "A sensory garden beside the Florence Nightingale Ward for patients and families.",
        "Inpatients on an acute mental health ward.",
        "Patient feedback only.",
        "Ward Manager",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-09-10", "nl2", "Feedback only; a clear rationale.")],
    ),
    # Published, but the organisation did not consent: never shown.
    (
        "Peer mentoring for young people leaving custody",
        "Lambeth",
        "Youth justice",
        "empowerment; collaboration",
        "engagement_lived_experience",
        "Mentors with lived experience meet young people at the gate.",
        "Young people leaving custody.",
        "An evaluation with a comparison group is under way.",
        "Youth Justice Manager",
        "No",
        [(PUB, "VRU reviewer A", "2025-06-20", "nl2", "Logic model; evaluation under way.")],
    ),
    (
        "Trauma-informed approach to rent arrears",
        "Waltham Forest",
        "Housing",
        "choice; trustworthiness",
        "policy",
        "Arrears letters and visits rewritten to avoid threat and offer choices.",
        "Council tenants in arrears.",
        "Evictions fell after the change.",
        "Income Manager",
        "No",
        [(PUB, "VRU reviewer B", "2025-07-22", "level_2", "Before and after; no comparison.")],
    ),
    # Held back by the personal-data screen although published with consent.
    (
        "Family group conferences",
        "Ealing",
        "Children's social care",
        "empowerment; collaboration",
        "cross_sector_collaboration",
        "Families lead plans with the professionals around them. To visit, contact the coordinator at fgc.coordinator@example.org.",
        "Families of children at risk.",
        "A before-and-after study found fewer children entering care.",
        "Family Group Conference Manager",
        "Yes",
        [(PUB, "VRU reviewer A", "2025-08-15", "level_2", "Before and after; no comparison.")],
    ),
    (
        "Out-of-hours crisis line for survivors",
        "Enfield",
        "Community safety",
        "safety",
        "screening_assessment",
        "A crisis line answered by trained advocates; call 020 7946 0958 to refer.",
        "Survivors of violence.",
        "Calls answered and referrals made.",
        "Domestic Abuse Coordinator",
        "Yes",
        [(PUB, "VRU reviewer B", "2025-08-18", "nl2", "Activity data only.")],
    ),
    # Changes requested.
    (
        "Youth violence training for GPs",
        "North West London ICB",
        "Primary care",
        "safety; trustworthiness",
        "training_workforce",
        "Half-day training for GP practices.",
        "GPs and practice staff.",
        "Attendance numbers.",
        "Safeguarding Lead",
        "Yes",
        [("changes_requested", "VRU reviewer A", "2025-07-10", "", "")],
    ),
    (
        "Trauma-informed licensing",
        "Westminster",
        "Licensing",
        "safety",
        "policy",
        "Licensing officers consider vulnerability in night-time economy venues.",
        "Venue staff and customers.",
        "None.",
        "Licensing Manager",
        "Yes",
        [("changes_requested", "VRU reviewer B", "2025-07-12", "", "")],
    ),
    (
        "Neighbourhood trauma champions",
        "North East BCU",
        "Neighbourhood policing",
        "collaboration",
        "training_workforce; cross_sector_collaboration",
        "A trauma champion in every neighbourhood team.",
        "Officers.",
        "None yet.",
        "Neighbourhood Superintendent",
        "Yes",
        [("changes_requested", "VRU reviewer A", "2025-08-02", "", "")],
    ),
    (
        "School nurses' adversity screening",
        "Barnet",
        "Public health",
        "safety; choice",
        "screening_assessment",
        "School nurses use a short adversity screen at Year 7.",
        "Pupils in Year 7.",
        "None yet.",
        "School Nursing Lead",
        "Yes",
        [("changes_requested", "VRU reviewer B", "2025-08-09", "", "")],
    ),
    (
        "Trauma-informed procurement",
        "Sutton",
        "Procurement",
        "collaboration",
        "funding_commissioning",
        "Procurement staff trained in trauma-informed contract management.",
        "Suppliers.",
        "None.",
        "Procurement Lead",
        "Yes",
        [("changes_requested", "VRU reviewer A", "2025-08-11", "", "")],
    ),
    # Withdrawn (one after it had been published).
    (
        "Detached youth work at transport hubs",
        "Kingston upon Thames",
        "Youth services",
        "safety",
        "cross_sector_collaboration",
        "Youth workers at bus stations after school.",
        "Young people travelling after school.",
        "None.",
        "Youth Services Manager",
        "Yes",
        [
            (PUB, "VRU reviewer A", "2025-06-05", "nl2", "Logic model only."),
            ("withdrawn", "VRU reviewer A", "2025-09-12", "", ""),
        ],
    ),
    (
        "Hospital youth workers",
        "North West BCU",
        "Emergency care",
        "safety; trustworthiness",
        "cross_sector_collaboration",
        "Youth workers in A&E.",
        "Young people injured by violence.",
        "None.",
        "Partnership Inspector",
        "Yes",
        [("withdrawn", "VRU reviewer B", "2025-07-30", "", "")],
    ),
    (
        "Trauma-informed HR policies",
        "Bexley",
        "Human resources",
        "trustworthiness",
        "policy; staff_wellbeing",
        "HR policies reviewed against the principles.",
        "Council staff.",
        "None.",
        "HR Business Partner",
        "Yes",
        [("withdrawn", "VRU reviewer A", "2025-08-25", "", "")],
    ),
    # Submitted, not yet reviewed.
    (
        "Women's safety walks",
        "Hammersmith and Fulham",
        "Community safety",
        "collaboration; empowerment",
        "engagement_lived_experience",
        "Women walk their neighbourhood with officers and planners at night.",
        "Women living locally.",
        "None yet.",
        "Community Safety Officer",
        "Yes",
        [],
    ),
    (
        "Trauma-informed youth justice assessments",
        "Redbridge",
        "Youth justice",
        "cultural_consideration",
        "screening_assessment",
        "Assessments rewritten with young people.",
        "Young people in the youth justice system.",
        "None yet.",
        "Youth Justice Service Manager",
        "Yes",
        [],
    ),
    (
        "Pause and reflect sessions for call handlers",
        "Metropolitan Police Service",
        "Contact centres",
        "safety",
        "staff_wellbeing",
        "Ten-minute decompression after distressing calls.",
        "999 call handlers.",
        "Sickness absence data.",
        "Contact Centre Manager",
        "Yes",
        [],
    ),
    (
        "Trauma-informed data sharing agreement",
        "Harrow",
        "Information governance",
        "trustworthiness; collaboration",
        "monitoring_quality",
        "A data sharing agreement written around what residents told us they expect.",
        "Partners sharing data.",
        "None.",
        "Information Governance Manager",
        "Yes",
        [],
    ),
    (
        "Adolescent safeguarding hub",
        "Hounslow",
        "Children's social care",
        "collaboration",
        "cross_sector_collaboration; governance_leadership",
        "Contextual safeguarding hub.",
        "Adolescents at risk outside the home.",
        "None yet.",
        "Head of Adolescent Services",
        "No",
        [],
    ),
    (
        "Trauma-informed evaluation panel",
        "Richmond upon Thames",
        "Public health",
        "empowerment",
        "evaluation",
        "Residents help design evaluations of local services.",
        "Residents and commissioners.",
        "None yet.",
        "Public Health Consultant",
        "Yes",
        [],
    ),
]
# Rows that are not entries (file, kind): kept beside the entries in the export they belong to.
QUALTRICS_DIRTY = [
    ("non_genuine_status", "Survey Preview"),
    ("partial_response", "Finished False"),
    ("organisation does not resolve", "Borough of Atlantis"),
    ("principle not in the framework", "Resilience"),
]
FORMS_DIRTY = [("consent not answered", ""), ("blank_row", "")]
# Review rows that are not decisions the pipeline can use (quarantined), after the entries'.
REVIEW_DIRTY = [
    ("R_NOSUCHRESPONSE", "published", "VRU reviewer A", "2025-09-01", "nl2", "Unknown id."),
    ("practice_submissions_forms:4", "approved", "VRU reviewer B", "2025-09-02", "", ""),
    ("practice_submissions_forms:5", "published", "VRU reviewer B", "2025-09-03", "level_2", ""),
]
QUALTRICS_COUNT = 24  # the first entries go to the Qualtrics export, the rest to the Forms workbook
FORM_COLUMNS = {
    "title": "Title of the practice",
    "organisation": "Your organisation",
    "service_area": "Service area",
    "principles": "Which trauma-informed principles does it show?",
    "domains": "Which implementation domains does it show?",
    "what_it_does": "What does it do?",
    "who_it_is_for": "Who is it for?",
    "evidence_of_effect": "What evidence is there of its effect?",
    "contact_role": "Contact role (a job title, not a name)",
    "consent": "Do you consent to this entry being published in the library?",
}


def _fields(entry) -> dict:
    title, org, area, principles, domains, does, who, evidence, role, consent, _ = entry
    return dict(
        zip(
            FORM_COLUMNS,
            (title, org, area, principles, domains, does, who, evidence, role, consent),
            strict=True,
        )
    )


def _qualtrics(entries, path: Path) -> list[dict]:
    """A Qualtrics CSV (three header rows, UTF-8 with BOM, CRLF) holding the entries and dirty rows."""
    meta = ["StartDate", "EndDate", "Status", "Progress", "Finished", "RecordedDate", "ResponseId", "RecipientEmail"]
    tags = meta + list(FORM_COLUMNS)
    texts = [
        "Start Date",
        "End Date",
        "Response Type",
        "Progress",
        "Finished",
        "Recorded Date",
        "Response ID",
        "Recipient Email",
    ] + list(FORM_COLUMNS.values())
    imports = [f'{{"ImportId":"{t}"}}' for t in tags]
    rows, dirty = [], []
    for i, entry in enumerate(entries):
        rows.append(_qualtrics_row(f"R_PRACTICE{i + 1:03d}", i, "IP Address", "100", "True", _fields(entry)))
    for j, (reason, value) in enumerate(QUALTRICS_DIRTY):
        fields = _fields(ENTRIES[j])
        fields["title"] = f"Draft: {fields['title']}"  # its own title, so a test can look for it
        status, progress, finished = "IP Address", "100", "True"
        if reason == "non_genuine_status":
            status = value
        elif reason == "partial_response":
            progress, finished = "40", "False"
        elif reason.startswith("organisation"):
            fields["organisation"] = value
        else:
            fields["principles"] = value
        rows.append(_qualtrics_row(f"R_DIRTY{j + 1:03d}", 40 + j, status, progress, finished, fields))
        dirty.append({"file": path.name, "row": 4 + len(entries) + j, "reason": reason})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([tags, texts, imports, *rows])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return dirty


def _qualtrics_row(response_id: str, i: int, status: str, progress: str, finished: str, fields: dict) -> list[str]:
    submitted = pd.Timestamp("2025-05-06 09:00") + pd.Timedelta(hours=31 * i)
    stamp = submitted.strftime("%Y-%m-%d %H:%M:%S")
    start = (submitted - pd.Timedelta(minutes=25)).strftime("%Y-%m-%d %H:%M:%S")
    return [
        start,
        stamp,
        status,
        progress,
        finished,
        stamp,
        response_id,
        f"submitter{i + 1}@example.org",
        *fields.values(),
    ]


def _forms(entries, path: Path) -> list[dict]:
    """A Microsoft Forms-style XLSX: ID, times, e-mail and name, then one column per question."""
    from tipipeline.sample.workbooks import write_xlsx

    records, dirty = [], []
    rows = [("entry", entry) for entry in entries] + [("dirty", d) for d in FORMS_DIRTY]
    for number, (kind, item) in enumerate(rows, start=1):
        submitted = pd.Timestamp("2025-06-16 10:00") + pd.Timedelta(hours=29 * number)
        if kind == "dirty" and item[0] == "blank_row":
            records.append({})
        else:
            fields = _fields(item if kind == "entry" else ENTRIES[-number])
            if kind == "dirty":
                fields["consent"] = ""
                fields["title"] = f"Draft: {fields['title']}"
            records.append(
                {
                    "ID": number,
                    "Start time": submitted - pd.Timedelta(minutes=20),
                    "Completion time": submitted,
                    "Email": f"forms{number}@example.org",
                    "Name": f"Sample Person {number}",
                    **{FORM_COLUMNS[k]: (v or None) for k, v in fields.items()},
                }
            )
        if kind == "dirty":
            dirty.append({"file": path.name, "row": 1 + number, "reason": item[0]})
    columns = ["ID", "Start time", "Completion time", "Email", "Name", *FORM_COLUMNS.values()]
    write_xlsx({"Sheet1": pd.DataFrame(records, columns=columns)}, path)
    return dirty


def response_ids() -> list[str]:
    """Each entry's submission id, in ENTRIES order: Qualtrics' response id (R_PRACTICEnnn), then
    Forms' response number qualified by the file it is in (Forms numbers each form from 1)."""
    return [f"R_PRACTICE{i + 1:03d}" for i in range(QUALTRICS_COUNT)] + [
        f"practice_submissions_forms:{n}" for n in range(1, len(ENTRIES) - QUALTRICS_COUNT + 1)
    ]


def write_practice_sample(out: Path) -> dict:
    """Write data/raw/practice/ and return the manifest's `practice` entry."""
    folder = out / "practice"
    (folder / "submissions").mkdir(parents=True, exist_ok=True)
    q_path = folder / "submissions" / "practice_submissions_qualtrics.csv"
    f_path = folder / "submissions" / "practice_submissions_forms.xlsx"
    dirty = _qualtrics(ENTRIES[:QUALTRICS_COUNT], q_path) + _forms(ENTRIES[QUALTRICS_COUNT:], f_path)
    reviews = [(rid, *decision) for rid, entry in zip(response_ids(), ENTRIES, strict=True) for decision in entry[-1]]
    first_dirty = 2 + len(reviews)
    reviews += REVIEW_DIRTY
    dirty += [{"file": "reviews.csv", "row": first_dirty + k, "reason": "review row quarantined"} for k in range(3)]
    where = {p.name: str(p.relative_to(out)) for p in (q_path, f_path, folder / "reviews.csv")}
    dirty = [{**d, "file": where[d["file"]]} for d in dirty]
    not_personal = {"Florence Nightingale"}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["submission_id", "state", "reviewer", "reviewed_on", "evidence_level", "evidence_reason", "not_personal_data"]
    )
    for rid, state, reviewer, date, level, reason in reviews:
        entry = dict(zip(response_ids(), ENTRIES, strict=True)).get(rid)
        cleared = "; ".join(sorted(w for w in not_personal if entry and w in entry[0] + entry[5]))
        writer.writerow([rid, state, reviewer, date, level, reason, cleared])
    (folder / "reviews.csv").write_text(buffer.getvalue(), encoding="utf-8")
    final = {rid: (entry[-1][-1][0] if entry[-1] else "submitted") for rid, entry in zip(response_ids(), ENTRIES)}
    shown = [
        rid
        for rid, entry in zip(response_ids(), ENTRIES, strict=True)
        if final[rid] == PUB and entry[9] == "Yes" and "@" not in entry[5] and "020 " not in entry[5]
    ]
    return {
        "submissions": len(ENTRIES),
        "files": [str(q_path.relative_to(out)), str(f_path.relative_to(out)), "practice/reviews.csv"],
        "states": {state: sum(1 for s in final.values() if s == state) for state in sorted(set(final.values()))},
        "shown": shown,
        "published_without_consent": [
            rid for rid, entry in zip(response_ids(), ENTRIES, strict=True) if final[rid] == PUB and entry[9] == "No"
        ],
        "held_by_screen": [
            rid for rid, entry in zip(response_ids(), ENTRIES, strict=True) if "@" in entry[5] or "020 " in entry[5]
        ],
        "dirty_rows": dirty,
    }


def readme_lines(entry: dict) -> list[str]:
    """The sample README's rows for the practice library's files."""
    states = ", ".join(f"{count} {state.replace('_', ' ')}" for state, count in entry["states"].items())
    return [
        f"| `{entry['files'][0]}` | practice-library submissions: Qualtrics CSV (export tags) | |",
        f"| `{entry['files'][1]}` | practice-library submissions: Microsoft Forms-style XLSX (question wording) | |",
        f"| `{entry['files'][2]}` | reviewers' decisions on the {entry['submissions']} submissions ({states}) | |",
    ]


def readme_dirty_rows(entry: dict) -> list[str]:
    """The sample README's notes on the practice library: what is shown, held back and dirty."""
    lines = [
        "",
        f"The practice library: {len(entry['shown'])} entries are shown; published without consent (never shown): "
        + ", ".join(entry["published_without_consent"])
        + "; held back by the personal-data screen (an e-mail address, a telephone number): "
        + ", ".join(entry["held_by_screen"])
        + ". Deliberately dirty rows:",
        "",
        "| file | row | what is wrong |",
        "|---|---|---|",
    ]
    lines += [f"| `{d['file']}` | {d['row']} | {d['reason']} |" for d in entry["dirty_rows"]]
    return lines
