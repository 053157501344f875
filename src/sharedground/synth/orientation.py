"""How each answer depends on a respondent's latent attitude: the orientation table.

Every respondent has one latent attitude to the doctor-manager relationship (``z``, standard
normal, higher = more positive; part of it is shared by everybody in the same trust). For each
question cell the assignment ranks the respondents of a group by

    score = LOADING[cell] * z + item noise (standard normal)

and gives the top of the ranking the answer the published row counts. The sign of a loading is
therefore the *orientation* of the published count:

* ``+`` the counted answer is the relationship-positive one (agree that doctors and managers
  work well together; for reverse-scored items such as ``pressure_reduce_tests`` the counted
  answer is disagreeing with the wording as asked, which is again the positive view);
* ``-`` the counted answer is a negative view (relationships will deteriorate, the
  tension between quality and cost is rising, dissatisfied with the effort spent nurturing
  relationships, lack of trust as a barrier);
* the size says how strongly the cell reflects the relationship: 1.0 for statements about the
  relationship itself, about 0.3-0.5 for the external context (regulation, the public), near 0 for
  choices that are about workload or national events rather than attitude.

Splitting a side into its extreme and its moderate answer is an assumption (the report prints
only agree vs the rest): the most extreme ``STRONGLY_SHARE`` of each side, by score, answer
"strongly"; ratings split in the same way (``RATING_SPLITS``).
"""

from __future__ import annotations

from fractions import Fraction

#: Signed loading of the published (counted) answer on the latent attitude, per Likert item.
LIKERT_LOADING: dict[str, float] = {
    # table 2.1 outlook
    "outlook_improve": 0.9,
    "outlook_deteriorate": -0.9,
    # table 2.2 relative power
    "power_balance_right": 1.0,
    "doctors_involved_in_management": 0.8,
    "doctors_influence_management": 0.8,
    "doctors_autonomy": 0.7,
    "pressure_reduce_tests": 0.6,  # reverse-scored: counted = "do not exert pressure"
    "pressure_early_discharge": 0.6,  # reverse-scored, as above
    # table 2.3 calibre
    "managers_high_quality": 1.0,
    "doctors_high_quality": 0.4,
    "managers_clinically_versed": 0.8,
    "managers_confident_in_clinical_leaders": 0.8,
    "doctors_confident_in_managers": 1.0,
    # table 2.4 goals, decisions, team-working
    "agree_on_goals": 1.0,
    "financial_over_clinical": 0.8,  # reverse-scored: counted = "driven more by clinical"
    "focus_on_patient_need": 1.0,
    "decisions_fair": 1.0,
    "doctors_support_decisions": 0.9,
    "work_as_team": 1.1,
    "improvement_in_partnership": 1.0,
    # table 2.5 communication
    "management_feedback": 0.9,
    "doctors_inform_management": 0.6,
    "performance_data_good_practice": 0.5,
    "performance_data_helps_relationship": 0.6,
    "openness_honesty_challenge": 1.0,
    # table 2.6 resources
    "enough_consultants": 0.4,
    "enough_clinical_resources": 0.5,
    "management_responsive_resources": 0.9,
    "doctors_prioritise_requests": 0.5,
    # table 2.7 external context
    "public_respects_doctors": 0.2,
    "cost_quality_tension_rising": -0.4,
    "regulation_punitive": -0.4,
    "public_respects_managers": 0.3,
    "regulation_proportionate": 0.4,
}

#: Signed loading of the counted rating block: a high local rating is positive; the published
#: nurture row counts dissatisfaction, so ranking is on satisfaction (see `RATING_SPLITS`).
RATING_LOADING: dict[str, float] = {"local_rating": 1.1, "nurture_satisfaction": 0.8}

#: Loading of ticking each option of the pick-up-to-three questions.
CHOICE_LOADING: dict[str, dict[str, float]] = {
    "barriers": {
        "time_doctors": 0.0,
        "policy_turbulence": 0.2,  # blaming the outside world more than each other
        "insufficient_resources": 0.0,
        "time_managers": 0.0,
        "lack_communication": -0.5,
        "cultural_divide": -0.5,
        "lack_trust": -0.8,
        "other": -0.3,
    },
    "factors_positive": {
        "francis_reports": 0.2,
        "berwick_review": 0.2,
        "keogh_review": 0.1,
        "fmlm_established": 0.3,
        "regulator_role_changes": 0.2,
        "hsc_act_2012": 0.1,
        "social_media": 0.0,
        "financial_pressures": 0.1,
    },
    "factors_negative": {
        "financial_pressures": -0.2,
        "regulator_role_changes": -0.3,
        "hsc_act_2012": -0.3,
        "social_media": 0.0,
        "francis_reports": -0.1,
        "keogh_review": -0.1,
        "fmlm_established": -0.1,
        "berwick_review": 0.0,
    },
}

#: Initiatives (table 2.11) exist in a trust or not: a yes mostly reflects the trust, a little
#: the respondent's attitude (positive respondents notice and join such schemes).
INITIATIVE_LOADING = 0.4
INITIATIVE_TRUST_SD = 1.0

#: Share of a trust in the latent attitude: respondents of one trust share this much variance.
TRUST_SHARE = 0.15

#: The most extreme share of each side answers "strongly" agree / disagree.
STRONGLY_SHARE = Fraction(3, 10)

#: How a rating block splits into scale points, from its favourable end (shares of the block).
#: local_rating: positive = 30% "5" and 70% "4"; negative = 70% "2" and 30% "1".
#: nurture_satisfaction: the 3-5 block = 15% "5", 45% "4", 40% "3"; dissatisfied = 65% "2",
#: 35% "1". Both are assumptions; the report gives only the blocks.
RATING_SPLITS: dict[str, dict[str, tuple[tuple[str, Fraction], ...]]] = {
    "local_rating": {
        "high": (("5", Fraction(3, 10)), ("4", Fraction(7, 10))),
        "mid": (("3", Fraction(1)),),
        "low": (("2", Fraction(7, 10)), ("1", Fraction(3, 10))),
    },
    "nurture_satisfaction": {
        "rest": (("5", Fraction(15, 100)), ("4", Fraction(45, 100)), ("3", Fraction(40, 100))),
        "low": (("2", Fraction(65, 100)), ("1", Fraction(35, 100))),
    },
}

#: Share of non-valid Likert answers left blank (the rest answer "don't know"): with
#: 5-20% non-valid per cell this keeps blanks at the report's "typically 5% or lower".
BLANK_SHARE_OF_NONVALID = Fraction(1, 4)
