"""A small hand-worked study for the analytics tests (every expected number is worked out below).

Participants and what is coded for them (in participant speech unless noted):

    LV-07  (from the team fixture)  no attributes, no codings
    P1  Afghanistan, 5 attempts, represented   BTV, Taliban, Prior pushback
    P2  Syria, 2 attempts                      BTV, Military service
    P3  Iraq, 10 attempts                      Russian visa, BTV
    P4  Iraq, 1 attempt                        No visa; Prior pushback only in an interviewer turn
    P5  Iraq                                   nothing

N = 6 participants. Codebook: Visa route/{Belarusian tourist visa (BTV), Russian visa, No visa},
Persecution ground/{Taliban, Military service}, Prior pushback.
"""

import datetime as dt
from dataclasses import dataclass

from coding import services as coding_services
from interviews import services

from .conftest import make_interview

TEXT = (
    "Interviewer: How did you come here?\n"
    "Participant: I came with a visa to Minsk and flew.\n"
    "Participant: Then we walked to the border for days.\n"
)
INTERVIEWER_LINE = (0, TEXT.index("\n"))
LINE2 = (TEXT.index("Participant"), TEXT.index("\n", TEXT.index("Participant")))
LINE3_START = TEXT.index("Participant: Then")
LINE3 = (LINE3_START, len(TEXT) - 1)


@dataclass
class Study:
    team: object
    people: dict
    codes: dict
    interviews: dict


def build_study(team) -> Study:
    project = team.project
    services.create_attribute_definition(
        project=project,
        key="nationality",
        label="Nationality",
        kind="categorical",
        choices=["Afghanistan", "Iraq", "Syria"],
    )
    services.create_attribute_definition(
        project=project, key="crossing_attempts", label="Crossing attempts", kind="integer"
    )
    services.create_attribute_definition(
        project=project, key="has_legal_representation", label="Legal representation", kind="boolean"
    )
    services.create_attribute_definition(project=project, key="arrived", label="Arrived", kind="date")
    codes = {
        "Visa route": team.code_group,
        "BTV": team.code,
        "Prior pushback": team.code2,
    }
    codes["Russian visa"] = coding_services.create_code(
        project=project, name="Russian visa", parent=team.code_group
    )
    codes["No visa"] = coding_services.create_code(project=project, name="No visa", parent=team.code_group)
    codes["Persecution ground"] = coding_services.create_code(
        project=project, name="Persecution ground", is_codable=False
    )
    codes["Taliban"] = coding_services.create_code(
        project=project, name="Taliban", parent=codes["Persecution ground"]
    )
    codes["Military service"] = coding_services.create_code(
        project=project, name="Military service", parent=codes["Persecution ground"]
    )
    plan = {
        "P1": ({"nationality": "Afghanistan", "crossing_attempts": 5, "has_legal_representation": True,
                "arrived": "2021-10-01"},
               [("BTV", LINE2), ("Taliban", LINE3), ("Prior pushback", LINE3)]),
        "P2": ({"nationality": "Syria", "crossing_attempts": 2, "has_legal_representation": False},
               [("BTV", LINE2), ("Military service", LINE2)]),
        "P3": ({"nationality": "Iraq", "crossing_attempts": 10}, [("Russian visa", LINE2), ("BTV", LINE3)]),
        "P4": ({"nationality": "Iraq", "crossing_attempts": 1},
               [("No visa", LINE2), ("Prior pushback", INTERVIEWER_LINE)]),
        "P5": ({"nationality": "Iraq"}, []),
    }  # fmt: skip
    people = {"LV-07": team.participant}
    interviews = {"LV-07": team.interview}
    for day, (name, (attributes, codings)) in enumerate(plan.items(), start=1):
        person = services.create_participant(project=project, pseudonym=name)
        services.set_participant_attributes(participant=person, values=attributes)
        interview = make_interview(person, text=TEXT, by=team.owner, interview_date=dt.date(2022, 1, day))
        for code, (start, end) in codings:
            coding_services.create_coding(
                interview=interview, code=codes[code], coder=team.coder, start=start, end=end
            )
        people[name] = person
        interviews[name] = interview
    return Study(team=team, people=people, codes=codes, interviews=interviews)
