"""Sentences for the synthetic free-text comments, written for sharedground.

None of these is taken from the report or its respondents' quotations: they were written for the
synthetic cohort, to read like short survey comments and to exercise the tools that handle free
text (search, coding, anonymisation). Slots in braces are filled from the respondent's own answers
and role (see `synth.comments`):

``{own}`` / ``{other}``  the respondent's side and the other one ("doctors", "managers");
``{role}``               the respondent's role in words;
``{barrier}``            a barrier they ticked; ``{good_factor}`` / ``{bad_factor}`` an outside
                         influence they ticked as positive / negative (two different ones
                         where they ticked more than one);
``{have}`` / ``{lack}``  an initiative they said is / is not available;
``{topic}``              a theme of the page of statements being commented on.

A capitalised slot (``{Topic}``) starts a sentence. Slot values differ in number ("the Francis
reports", "the Berwick review"), so a slot is never the subject of a present-tense verb.
Pools are split by tone (``pos``, ``mixed``, ``neg``), chosen from the latent attitude.
"""

from __future__ import annotations

Pools = dict[str, tuple[str, ...]]

OVERALL: Pools = {
    "pos": (
        "Relationships here are generally good and most {other} are easy to work with.",
        "We have a settled executive team and that stability helps {own} and {other} trust each "
        "other.",
        "On the whole I feel listened to, and disagreements get resolved face to face.",
        "Things have improved since the board started meeting clinical leads every month.",
    ),
    "mixed": (
        "It varies a lot between directorates; some work very well together, others barely talk.",
        "Good people on both sides, but the pressure of the winter months tests everyone.",
        "Relationships are fine at the top of the organisation and patchier further down.",
        "Much depends on individuals - when key people move on we start again from scratch.",
    ),
    "neg": (
        "There is a real gap between what {other} say and what happens on the wards.",
        "Trust has been worn down by years of cost improvement plans imposed from above.",
        "Meetings with {other} feel like negotiations rather than joint problem solving.",
        "As a {role} I spend more time defending my service than improving it.",
        "Turnover of senior managers means promises are rarely followed through.",
    ),
}

STATEMENTS: Pools = {
    "pos": (
        "I answered positively about {topic} because that is my honest experience here.",
        "Our record on {topic} has got better over the last two years.",
        "On {topic} we do better than most trusts I have worked in.",
        "Some of these statements were hard to answer, but {topic} is a strength here.",
    ),
    "mixed": (
        "The answer on {topic} would differ from one department to the next.",
        "Hard to generalise about {topic}; my own directorate is not typical.",
        "{Topic} is improving, though slowly and not everywhere.",
        "I ticked the middle ground on several of these because {topic} is so variable.",
    ),
    "neg": (
        "{Topic} is where the organisation most needs to change.",
        "Several of these questions assume a level of {topic} that we simply do not have.",
        "I disagreed on {topic} - the reality on the ground is very different from the board "
        "papers.",
        "Ask the {other} here about {topic} and you will hear a very different story.",
    ),
}

#: Themes of each page of statements, for `{topic}`.
TOPICS: dict[str, tuple[str, ...]] = {
    "comments_statements_1": (
        "the balance of influence",
        "the quality of management",
        "feedback to clinicians",
        "consultant staffing",
        "medical involvement in running the hospital",
    ),
    "comments_statements_2": (
        "clinical influence on decisions",
        "the calibre of our doctors",
        "financial pressure",
        "keeping managers informed",
        "the level of clinical resources",
        "professional autonomy",
    ),
    "comments_statements_3": (
        "pressure on tests and services",
        "clinical understanding among managers",
        "shared focus on patients",
        "the use of performance data",
        "regulation",
    ),
    "comments_statements_4": (
        "pressure to discharge early",
        "confidence in clinical leaders",
        "fairness in decision-making",
        "the use of performance data",
        "public respect",
    ),
    "comments_statements_5": (
        "confidence in management",
        "support for management decisions",
        "team working",
        "improvement work",
        "openness",
        "external regulation",
    ),
}

BARRIERS: Pools = {
    "pos": (
        "None of the barriers is insurmountable; {barrier} is the one we notice most.",
        "We manage {barrier} reasonably well by planning jointly.",
        "The barriers are mostly outside our control, {barrier} above all.",
    ),
    "mixed": (
        "{Barrier} gets in the way more than any difference in outlook.",
        "I picked {barrier}, though in truth several of these overlap.",
        "If we could deal with {barrier} the rest would be easier to tackle.",
        "Everyone is stretched, and {barrier} makes it hard to find time to talk properly.",
    ),
    "neg": (
        "{Barrier} has become a real problem over the last year.",
        "Until {barrier} is addressed nothing else on this list will change.",
        "{Barrier} is made worse by the way targets are handed down to us.",
        "From where I sit as a {role}, {barrier} is the root of most disputes.",
    ),
}

BARRIER_OTHER: tuple[str, ...] = (
    "Frequent changes of senior management",
    "Job planning disputes",
    "Lack of protected time for joint meetings",
    "Different priorities between divisions",
    "Poor IT and information systems",
    "Too many interim managers",
    "Rota gaps and locum reliance",
    "Physical distance between the management offices and the wards",
    "Pressure from commissioners",
    "Lack of administrative support",
    "Contract and pay disputes",
)

FACTORS: Pools = {
    "pos": (
        "Credit to {good_factor} for bringing clinicians and managers into the same room.",
        "Of the outside influences, {good_factor} did most to put quality on the board agenda.",
        "After {good_factor} we found a shared language about safety.",
    ),
    "mixed": (
        "Outside influences cut both ways: {good_factor} helped but {bad_factor} undid some of it.",
        "Every conversation now comes back to {bad_factor}, whatever good {good_factor} did.",
        "National reports come and go; local leadership matters more.",
        "I found it hard to choose - most of these had little effect locally.",
    ),
    "neg": (
        "Since {bad_factor}, {own} and {other} have drifted apart.",
        "The effect of {bad_factor} on morale should not be underestimated.",
        "Because of {bad_factor}, every discussion ends up being about money.",
        "We spend more time responding to {bad_factor} than working on services.",
    ),
}

INITIATIVES: Pools = {
    "pos": (
        "We have had {have} for a while now and it has been worthwhile.",
        "We introduced {have} two years ago and it has paid off.",
        "I would recommend {have} to other trusts on the strength of our experience.",
    ),
    "mixed": (
        "We have {have}, but attendance depends on the season.",
        "We offer {have} on paper; whether people take it up is another matter.",
        "I would like to see {lack} alongside what we already do.",
        "Not sure whether we offer {lack} - if so, nobody has told me.",
    ),
    "neg": (
        "Nobody here has suggested {lack}, and it shows.",
        "We started {have}, but it fizzled out because of workload.",
        "Initiatives like {lack} would help, but there is no budget or time for them.",
        "Training is offered to {own} but rarely to {other}.",
    ),
}

FINAL: Pools = {
    "pos": (
        "Thank you for doing this survey; it is an important subject.",
        "I look forward to reading the results.",
        "Glad to see this topic being studied again.",
    ),
    "mixed": (
        "Some questions were hard to answer for a large trust with many sites.",
        "The answers would have been different a year ago, so timing matters.",
        "It would help to repeat this regularly so that trends can be seen.",
        "My answers reflect my own directorate more than the trust as a whole.",
    ),
    "neg": (
        "I hope this survey leads to something; the last one sank without trace.",
        "The questions do not capture how tired people are.",
        "Please share the results with trusts, not just national bodies.",
    ),
}

#: An optional second sentence for any box.
CLOSERS: tuple[str, ...] = (
    "That is my personal view.",
    "Happy to be contacted about this.",
    "Others in my team may see it differently.",
    "This has been the case for some time.",
    "It is better than it was, but not where it should be.",
    "I suspect we are not unusual.",
)

#: Sentences carrying personal data, for testing redaction (see `synth.comments`).
PII_EMAIL: tuple[str, ...] = (
    "Happy to discuss further: {email}.",
    "If you want more detail, email me at {email}.",
)
PII_PHONE: tuple[str, ...] = (
    "Feel free to ring me on {phone}.",
    "My direct line is {phone} if a follow-up call would help.",
)
PII_NAME: tuple[str, ...] = (
    "Dr {last} in our surgical division has done more than anyone to build bridges.",
    "Since Dr {last} became clinical lead things have noticeably improved.",
    "Mrs {last}, our divisional manager, shows how it should be done.",
)

FIRST_NAMES: tuple[str, ...] = (
    "Sarah",
    "James",
    "Priya",
    "David",
    "Helen",
    "Mohammed",
    "Claire",
    "Andrew",
    "Fiona",
    "Rajesh",
    "Emma",
    "Tom",
    "Aisha",
    "Gareth",
    "Niamh",
    "Peter",
)
LAST_NAMES: tuple[str, ...] = (
    "Smith",
    "Jones",
    "Patel",
    "Taylor",
    "Brown",
    "Khan",
    "Wilson",
    "Evans",
    "Thomas",
    "Roberts",
    "Campbell",
    "Hughes",
    "Ahmed",
    "Murphy",
    "Walker",
    "Wright",
)

#: Slot values by option id (shorter and more natural inside a sentence than the labels).
BARRIER_WORDS: dict[str, str] = {
    "time_doctors": "the time pressure on doctors",
    "policy_turbulence": "constant reorganisation",
    "insufficient_resources": "the shortage of resources",
    "time_managers": "the workload of managers",
    "lack_communication": "poor communication",
    "cultural_divide": "the cultural gap between the professions",
    "lack_trust": "a lack of trust",
    "other": "something particular to this trust",
}
FACTOR_WORDS: dict[str, str] = {
    "francis_reports": "the Francis reports",
    "berwick_review": "the Berwick review",
    "keogh_review": "the Keogh review",
    "fmlm_established": "the new Faculty of Medical Leadership and Management",
    "regulator_role_changes": "the changing role of the regulators",
    "hsc_act_2012": "the 2012 Act",
    "social_media": "social media",
    "financial_pressures": "the financial squeeze",
}
INITIATIVE_WORDS: dict[str, str] = {
    "qi_collaboration": "joint improvement projects",
    "management_training_doctors": "management training for doctors",
    "joint_discussion_events": "joint discussion events",
    "joint_training_events": "joint training",
    "paired_learning": "paired learning",
    "joint_social_events": "a programme of social events",
    "buddying_mentoring": "mentoring between doctors and managers",
    "joint_social_spaces": "a shared staff space",
}
ROLE_WORDS: dict[str, str] = {
    "chief_executive": "chief executive",
    "medical_director": "medical director",
    "directorate_manager": "directorate manager",
    "clinical_director": "clinical director",
}
