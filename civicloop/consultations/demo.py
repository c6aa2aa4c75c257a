"""Demo consultations with several hundred responses each. Every sentence here was
written for civicloop and is combined at random (with a fixed seed), so the demo
looks lived-in and later analysis has something to find."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicloop.accounts.models import Organisation, User
from civicloop.consultations.models import Consultation, Page, Question, Response

REPAIRS_OPINIONS = {
    "agree": [
        "Twenty working days is fair for routine jobs as long as you actually stick to it.",
        "That target is fine for small things like a dripping tap.",
        "I agree, but please tell us the date when we report the repair.",
        "Reasonable. Most of my repairs were done quicker than that anyway.",
    ],
    "disagree": [
        "Twenty days is far too long when you have a broken {part} and young children.",
        "I waited {weeks} weeks for my {part} and nobody called me back.",
        "Routine should mean a week at most. Twenty days is a month of living with it.",
        "The {trade} came {visits} times and it still isn't fixed.",
        "Damp in the {room} keeps coming back because only the mould gets painted over.",
    ],
    "neither": [
        "Depends on the job. A {part} can wait, a leak cannot.",
        "I don't mind the target, I mind not knowing when anyone will turn up.",
    ],
}
DETAILS = [
    "",
    " The call centre was helpful though.",
    " I had to take {days} days off work waiting in for appointments.",
    " Text reminders the day before would help a lot.",
    " My neighbour had the same problem and it was fixed in two days, which doesn't seem fair.",
    " Please let us book appointments online.",
    " The {trade} was polite and tidied up afterwards.",
]
PARTS = [
    "boiler",
    "front door lock",
    "kitchen tap",
    "window",
    "extractor fan",
    "bathroom light",
    "toilet cistern",
]
TRADES = ["plumber", "electrician", "joiner", "contractor", "surveyor"]
ROOMS = ["bathroom", "bedroom", "kitchen", "hallway"]
CAMPAIGN = "As members of the Riverside Tenants' Voice we say: every repair reported should be completed within 10 working days, with no exceptions."

PARKING = {
    "agree": [
        "Free parking on Sundays would bring people back to the high street.",
        "Yes please. The market traders need the footfall.",
        "I would shop in town more if I didn't have to pay to park for an hour.",
    ],
    "disagree": [
        "Free parking just fills the centre with cars. Put the money into buses instead.",
        "The cycle lane on {street} finally makes it safe to ride with my kids. Don't undo it.",
        "Sunday buses are the problem, not parking charges.",
        "Car parks are never full on Sundays anyway, so this won't change anything.",
    ],
    "neither": [
        "Fine either way, but please fix the pay machines on {street}.",
        "Make the first hour free every day instead of all of Sunday.",
    ],
}
STREETS = ["Mill Lane", "Station Road", "Church Street", "the ring road", "Market Square"]
CYCLING = {
    "agree": [
        "The cycle lane on {street} finally makes it safe to ride with my kids.",
        "I cycle to work every day now that the lanes are separated from traffic.",
        "My daughter can ride to school on her own since the lanes went in.",
        "Fewer cars on {street} means cleaner air for the children at the school.",
        "Please extend the lanes to the station so we can leave the car at home.",
    ],
    "disagree": [
        "The lanes have made {street} gridlocked at school time.",
        "Deliveries to shops on Station Road are impossible now.",
        "Nobody uses them in winter, the lanes sit empty while cars queue.",
        "Losing the parking outside the shops has hit the traders on {street} hard.",
        "Buses are stuck behind the narrowed junction on {street} every morning.",
    ],
    "neither": [
        "Keep the lanes but let delivery vans load before ten in the morning.",
        "Fine either way, but please fix the potholes on {street} first.",
    ],
}
OPENERS = [
    "",
    "",
    "",
    "Honestly, ",
    "To be fair, ",
    "As a resident of {street}, ",
    "Speaking as a parent, ",
]
ENDINGS = [
    "",
    "",
    " I have lived here for {weeks} years.",
    " Please listen to residents this time.",
    " Thank you for asking.",
    " It affects my family every week.",
]
DAMP_WHY = [
    "Black mould in the {room} every winter.",
    "The {room} wall is wet to the touch and smells of damp.",
    "Mould keeps coming back on the {room} ceiling after it is painted over.",
    "Condensation runs down the {room} windows and the frames are rotting.",
    "My son's asthma is worse since the mould started in his bedroom.",
    "The extractor fan in the {room} has never worked, so the damp never dries.",
]
INFORMED_WHY = [
    "Nobody told me the {trade} wasn't coming.",
    "I rang {visits} times to find out when the {trade} would come.",
    "The text said Tuesday, they came Friday.",
    "I took {days} days off work and nobody turned up or called.",
    "The {trade} arrived without warning while I was at work.",
]


def _vary(text: str, rng: random.Random) -> str:
    """One person's answer: an opener and an ending around a stance sentence, so
    the demo does not read as a campaign of identical answers."""
    opener = rng.choice(OPENERS)
    if opener and text[:1].isupper() and not text.startswith("I "):
        text = text[:1].lower() + text[1:]
    return _fill(opener + text + rng.choice(ENDINGS), rng)


def _fill(text: str, rng: random.Random) -> str:
    return text.format(
        part=rng.choice(PARTS),
        trade=rng.choice(TRADES),
        room=rng.choice(ROOMS),
        weeks=rng.randint(3, 11),
        visits=rng.randint(2, 5),
        days=rng.randint(2, 4),
        street=rng.choice(STREETS),
    )


def _questions(
    consultation: Consultation, pages: list[tuple[str, dict[str, Any], list[tuple[Any, ...]]]]
) -> None:
    position = 0
    for page_number, (title, page_extra, specs) in enumerate(pages, start=1):
        page = Page.objects.create(
            consultation=consultation, position=page_number, title=title, **page_extra
        )
        for key, kind, text, required, options, hint in specs:
            position += 1
            Question.objects.create(
                consultation=consultation,
                page=page,
                position=position,
                key=key,
                type=kind,
                text=text,
                required=required,
                options=options,
                hint=hint,
                max_length=2000 if kind == "free_text" else None,
            )


def _stance(rng: random.Random, weights: tuple[int, int, int]) -> tuple[str, str]:
    side = rng.choices(["agree", "disagree", "neither"], weights=weights)[0]
    if side == "agree":
        return side, rng.choice(["agree", "strongly_agree"])
    if side == "disagree":
        return side, rng.choice(["disagree", "strongly_disagree"])
    return side, "neither"


def _demographics(rng: random.Random, areas: list[str], outward: list[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if rng.random() < 0.8:
        answers["age"] = rng.choices(
            ["16_24", "25_34", "35_44", "45_54", "55_64", "65_74", "75_plus", "prefer_not_to_say"],
            weights=[4, 10, 14, 16, 18, 20, 12, 6],
        )[0]
    if rng.random() < 0.7:
        answers["disability"] = rng.choices(
            ["yes_a_lot", "yes_a_little", "no", "prefer_not_to_say"], weights=[8, 14, 70, 8]
        )[0]
    if outward and rng.random() < 0.6:
        code = rng.choice(outward)
        answers["postcode"] = (
            f"{code} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
    if areas and rng.random() < 0.7:
        answers["area"] = rng.choice(areas)
    answers["consent"] = rng.choices(
        ["anonymous", "with_name", "not_at_all"], weights=[70, 10, 20]
    )[0]
    return answers


def _repairs(org: Organisation, author: User, rng: random.Random, now: dt.datetime) -> None:
    c = Consultation.objects.create(
        organisation=org,
        created_by=author,
        status=Consultation.Status.OPEN,
        title="Repairs service standards",
        summary="How quickly should we fix things in your home, and how should we keep you informed?",
        body=(
            "We are setting new standards for repairs and want tenants to shape them.\n\n"
            "## What we propose\n\n- Emergency repairs made safe within **24 hours**\n"
            "- Routine repairs completed within **20 working days**\n- A text message the day before every appointment\n\n"
            "## What happens next\n\nThe tenants' panel will review every response with us before the board decides in spring."
        ),
        tags="tenants, leaseholders, older people",
        opens_at=now - dt.timedelta(days=21),
        closes_at=now + dt.timedelta(days=14),
        contact="Customer Voice team, Riverside Homes\nPhone 0300 000 0000 (free from mobiles)",
        privacy_notice="Riverside Homes uses your answers only to set repairs standards. We keep names and contact details for one year after the consultation closes, then delete them.",
    )
    _questions(
        c,
        [
            (
                "Repairs",
                {},
                [
                    (
                        "target",
                        "agree_scale",
                        "We should complete routine repairs within 20 working days",
                        True,
                        [],
                        "",
                    ),
                    (
                        "target_why",
                        "free_text",
                        "Tell us why",
                        False,
                        [],
                        "Please do not include personal details such as your name or address.",
                    ),
                    (
                        "priorities",
                        "multiple_choice",
                        "What matters most to you when you report a repair?",
                        False,
                        [
                            "Getting an appointment quickly",
                            "Fixing it first time",
                            "Being kept informed",
                            "Tidy, respectful workers",
                            "Evening and weekend appointments",
                        ],
                        "Choose all that apply.",
                    ),
                    (
                        "informed",
                        "yes_no_why",
                        "Were you kept informed about your last repair?",
                        False,
                        [],
                        "",
                    ),
                ],
            ),
            (
                "Damp and mould",
                {},
                [
                    (
                        "damp",
                        "yes_no_why",
                        "Have you had damp or mould in your home in the last year?",
                        False,
                        [],
                        "",
                    )
                ],
            ),
            (
                "Putting damp right",
                {"show_if_key": "damp", "show_if_values": ["yes"]},
                [
                    (
                        "damp_rank",
                        "ranking",
                        "Put these in order of importance",
                        False,
                        ["Treat the mould", "Find and fix the cause", "Check back after six weeks"],
                        "",
                    ),
                ],
            ),
            (
                "About you",
                {},
                [
                    (
                        "postcode",
                        "postcode",
                        "Your postcode",
                        False,
                        [],
                        "We use the first half to see which areas we are hearing from.",
                    ),
                    ("age", "age", "How old are you?", False, [], ""),
                    (
                        "disability",
                        "disability",
                        "Are your day-to-day activities limited because of a health problem or disability?",
                        False,
                        [],
                        "",
                    ),
                    ("consent", "consent", "May we publish your response?", False, [], ""),
                ],
            ),
        ],
    )
    rows = []
    for n in range(360):
        campaign = n % 12 == 0
        side, target = ("disagree", "strongly_disagree") if campaign else _stance(rng, (40, 45, 15))
        text = (
            CAMPAIGN
            if campaign
            else _vary(rng.choice(REPAIRS_OPINIONS[side]) + rng.choice(DETAILS), rng)
        )
        answers: dict[str, Any] = {"target": target}
        if rng.random() < 0.85:
            answers["target_why"] = text
        answers["priorities"] = rng.sample(
            [
                "getting_an_appointment_quickly",
                "fixing_it_first_time",
                "being_kept_informed",
                "tidy_respectful_workers",
                "evening_and_weekend_appointments",
            ],
            k=rng.randint(1, 3),
        )
        informed = rng.choices(["yes", "no"], weights=[45, 55])[0]
        answers["informed"] = {
            "answer": informed,
            "why": ""
            if informed == "yes" or rng.random() < 0.5
            else _vary(rng.choice(INFORMED_WHY), rng),
        }
        damp = rng.choices(["yes", "no"], weights=[35, 65])[0]
        answers["damp"] = {
            "answer": damp,
            "why": _vary(rng.choice(DAMP_WHY), rng) if damp == "yes" and rng.random() < 0.6 else "",
        }
        if damp == "yes":
            answers["damp_rank"] = rng.sample(
                ["treat_the_mould", "find_and_fix_the_cause", "check_back_after_six_weeks"], k=3
            )
        answers.update(_demographics(rng, [], ["RV1", "RV2", "RV3", "RV4"]))
        channel = rng.choices(
            [Response.Channel.WEB, Response.Channel.PAPER, Response.Channel.PHONE],
            weights=[80, 12, 8],
        )[0]
        rows.append(
            Response(
                consultation=c,
                idempotency_key=f"demo-{n}",
                channel=channel,
                answers=answers,
                submitted_at=now - dt.timedelta(minutes=rng.randint(10, 20 * 24 * 60)),
            )
        )
    Response.objects.bulk_create(rows)


def _parking(org: Organisation, author: User, rng: random.Random, now: dt.datetime) -> None:
    common = {
        "organisation": org,
        "created_by": author,
        "contact": "Transport Policy, Ashworth District Council\ntransport@ashworth.example",
        "privacy_notice": "Ashworth District Council processes your answers to decide parking and cycling policy. We keep personal details for six months after closing.",
        "retention_days": 183,
    }
    areas = ["Ashworth town centre", "Millbrook", "Upper Ashworth", "Fenwick villages"]
    for closed in (True, False):
        c = Consultation.objects.create(
            **common,
            status=Consultation.Status.PUBLISHED if closed else Consultation.Status.OPEN,
            title="Sunday parking charges" if closed else "Cycle lanes on Station Road",
            summary=(
                "Should council car parks be free on Sundays?"
                if closed
                else "Should the trial cycle lanes on Station Road become permanent?"
            ),
            body=(
                "We asked whether to stop charging for parking on Sundays to support the town centre."
                if closed
                else "Since March, Station Road has had protected cycle lanes on a trial basis. Tell us what you think before we decide whether to keep them."
            ),
            tags="residents, businesses, cyclists, drivers",
            opens_at=now - dt.timedelta(days=120 if closed else 10),
            closes_at=now - dt.timedelta(days=60) if closed else now + dt.timedelta(days=25),
            outcome=(
                "**You said:** most of you wanted free parking on Sundays, but many worried about buses.\n\n"
                "**We did:** the first two hours are free on Sundays from April, and the Sunday 14 bus now runs every 30 minutes."
            )
            if closed
            else "",
        )
        _questions(
            c,
            [
                (
                    "Your view",
                    {},
                    [
                        (
                            "support",
                            "agree_scale",
                            "Parking in council car parks should be free on Sundays"
                            if closed
                            else "The cycle lanes on Station Road should stay",
                            True,
                            [],
                            "",
                        ),
                        ("reasons", "free_text", "Why do you think that?", False, [], ""),
                        (
                            "travel",
                            "single_choice",
                            "How do you usually travel into the town centre?",
                            False,
                            ["Car", "Bus", "Bicycle", "On foot", "I don't go into the town centre"],
                            "",
                        ),
                    ],
                ),
                (
                    "About you",
                    {},
                    [
                        ("area", "area", "Where do you live?", False, areas, ""),
                        ("age", "age", "How old are you?", False, [], ""),
                        ("consent", "consent", "May we publish your response?", False, [], ""),
                    ],
                ),
            ],
        )
        rows = []
        for n in range(140 if closed else 320):
            side, support = _stance(rng, (55, 35, 10) if closed else (45, 45, 10))
            text = _vary(rng.choice((PARKING if closed else CYCLING)[side]), rng)
            answers: dict[str, Any] = {
                "support": support,
                "travel": rng.choice(["car", "bus", "bicycle", "on_foot"]),
            }
            if rng.random() < 0.8:
                answers["reasons"] = text
            answers.update(_demographics(rng, [a.lower().replace(" ", "_") for a in areas], []))
            answers.pop("disability", None)  # not asked in the council's consultations
            end = c.closes_at if closed and c.closes_at else now
            submitted = end - dt.timedelta(
                minutes=rng.randint(60, 50 * 24 * 60) if closed else rng.randint(5, 9 * 24 * 60)
            )
            rows.append(
                Response(
                    consultation=c,
                    idempotency_key=f"demo-{n}",
                    channel=Response.Channel.WEB if rng.random() < 0.9 else Response.Channel.EMAIL,
                    answers=answers,
                    submitted_at=submitted,
                )
            )
        Response.objects.bulk_create(rows)


@transaction.atomic
def load_demo_consultations() -> bool:
    if Consultation.objects.filter(organisation__slug="riverside-homes").exists():
        return False
    rng = random.Random(20261128)
    now = timezone.now()
    riverside = Organisation.objects.get(slug="riverside-homes")
    ashworth = Organisation.objects.get(slug="ashworth")
    _repairs(riverside, riverside.memberships.get(role="officer").user, rng, now)
    _parking(ashworth, ashworth.memberships.get(role="officer").user, rng, now)
    return True
