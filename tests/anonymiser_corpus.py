"""A labelled synthetic test set for the identifier detector: transcripts with planted identifiers.

Deterministic (``random.Random(seed)``). Each transcript comes with the exact
ranges of what was planted and its kind, so recall and precision can be
computed. Distractors are planted too: sentence-initial capitals, countries,
months, organisations, nationalities, apps, numbers that are not phones.
"""

import random
from dataclasses import dataclass, field

FIRST_NAMES = [
    "Ahmad",
    "Hassan",
    "Yusuf",
    "Karwan",
    "Dilan",
    "Rojin",
    "Zainab",
    "Mariam",
    "Farhad",
    "Soran",
    "Nasrin",
    "Hamid",
    "Layla",
    "Reza",
    "Shirin",
    "Bashir",
    "Omid",
    "Parwin",
    "Jamal",
    "Nadia",
    "Khalid",
    "Rasul",
    "Hevin",
    "Berivan",
    "Mustafa",
    "Samira",
    "Tariq",
    "Fatemeh",
    "Azad",
    "Sherzad",
    "Abdullah",
    "Habibullah",
    "Zahra",
    "Mahmoud",
    "Aziz",
    "Gulalai",
    "Haider",
    "Sakina",
    "Idris",
    "Amina",
]
SURNAMES = [
    "Karimi",
    "Ahmadi",
    "Haidari",
    "Rezaei",
    "Barzani",
    "Hosseini",
    "Mohammadi",
    "Sharifi",
    "Qasimi",
    "Yousefi",
    "Nazari",
    "Rahimi",
    "Hamdan",
    "Saleh",
    "Jaber",
    "Darwish",
    "Kurdi",
    "Amini",
    "Sadiqi",
]
COUNTRIES = [
    "Iraq",
    "Syria",
    "Afghanistan",
    "Iran",
    "Belarus",
    "Latvia",
    "Lithuania",
    "Poland",
    "Turkey",
    "Russia",
]
CITIES = ["Minsk", "Baghdad", "Erbil", "Damascus", "Kabul", "Riga", "Vilnius", "Moscow", "Istanbul"]
MONTHS = ["January", "February", "March", "October", "November", "December"]
ORGS = ["UNHCR", "IOM", "Frontex", "the Red Cross", "the EU"]
APPS = ["WhatsApp", "Telegram", "Facebook", "Google Maps"]

FILLER = [
    "We walked for many hours in the forest and it was very cold.",
    "The guards took our phones and pushed us back across the fence.",
    "After that we tried again, maybe four or five times.",
    "Nobody explained anything to us about asylum.",
    "There were families with small children in the group.",
    "It was the worst time of my life.",
    "They gave us some water but no food for two days.",
    "Then the soldiers came with dogs.",
    "Sometimes we slept under the trees.",
    "Everyone was afraid of the border guards on both sides.",
    "I paid 1500 dollars to the driver and another 300 for the hotel.",
    "We were 23 people in the group, including 8 children.",
    "In 2021 the situation was different.",
    # Capitalised words that are not people: the heuristic may flag them (they count against precision).
    "The Polish Border Guard took us to a detention centre in Wędrzyn.",
    "We fasted during Ramadan even in the forest.",
    "The Lithuanian Ministry of Interior never answered.",
    "We crossed the Bug river near Terespol at night.",
    "Later a volunteer from Grupa Granica brought us soup.",
    "They said Covid was the reason for closing the road.",
    "My uncle lives in Hamburg now.",
    "I speak Sorani and a little English.",
]


@dataclass
class Labelled:
    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, kind)


class _Writer:
    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[tuple[int, int, str]] = []

    def add(self, s: str, kind: str | None = None):
        if kind:
            self.spans.append((self.length, self.length + len(s), kind))
        self.parts.append(s)
        self.length += len(s)


def _phone(rng: random.Random) -> str:
    return rng.choice(
        [
            f"+375 29 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            f"+964 750 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+48 {rng.randint(500, 799)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}",
            f"00371 2{rng.randint(1000000, 9999999)}",
            f"0{rng.randint(700, 799)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+93 (0)70 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        ]
    )


def _email(rng, first, last):
    domain = rng.choice(["gmail.com", "mail.ru", "yahoo.com"])
    return f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{domain}"


def _dob(rng):
    d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1960, 2005)
    return rng.choice(
        [f"{d:02d}.{m:02d}.{y}", f"{d}/{m}/{y}", f"{d} {MONTHS[m % len(MONTHS)]} {y}", f"{y}-{m:02d}-{d:02d}"]
    )


def _document(rng):
    return rng.choice(
        [
            (
                "passport number ",
                f"{rng.choice('ABNPR')}{rng.choice('ABCKX')}{rng.randint(1000000, 9999999)}",
            ),
            (
                "my UNHCR number is ",
                f"{rng.randint(100, 999)}-{rng.randint(10, 99)}C{rng.randint(10000, 99999)}",
            ),
            ("the asylum case number ", f"LT-{rng.randint(2020, 2023)}-{rng.randint(10000, 99999)}"),
            ("case no. ", f"{rng.randint(2020, 2023)}/{rng.randint(10000, 99999)}"),
            ("the UNHCR file ", f"{rng.randint(100, 999)}-{rng.randint(10000000, 99999999)}"),
        ]
    )


def _gps(rng):
    return f"{rng.uniform(50, 57):.5f}, {rng.uniform(21, 28):.5f}"


def make_labelled_set(n: int = 60, seed: int = 7, terms=()) -> list[Labelled]:
    """``terms``: (term, kind) pairs planted as they are (for sensitive-list recall)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        w = _Writer()
        for turn in range(rng.randint(10, 16)):
            w.add("Interviewer: " if turn % 2 == 0 else "P07: ")
            for _ in range(rng.randint(2, 5)):
                roll = rng.random()
                first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
                if roll < 0.12:
                    w.add("My friend ")
                    w.add(f"{first} {last}", "NAME")
                    w.add(f" came from {rng.choice(COUNTRIES)} in {rng.choice(MONTHS)}. ")
                elif roll < 0.20:
                    w.add(first, "NAME")
                    w.add(f" told us to wait near {rng.choice(CITIES)}. ")
                elif roll < 0.26:
                    w.add("We called ")
                    w.add(first, "NAME")
                    w.add(f" on {rng.choice(APPS)} every day. ")
                elif roll < 0.32:
                    w.add("His number was ")
                    w.add(_phone(rng), "PHONE")
                    w.add(". ")
                elif roll < 0.37:
                    first2 = rng.choice(FIRST_NAMES)
                    w.add("You can write to ")
                    w.add(_email(rng, first2, last), "EMAIL")
                    w.add(". ")
                elif roll < 0.42:
                    w.add("I was born on ")
                    w.add(_dob(rng), "DOB")
                    w.add(f" in {rng.choice(COUNTRIES)}. ")
                elif roll < 0.47:
                    label, number = _document(rng)
                    w.add(f"They wrote down {label}")
                    w.add(number, "DOCUMENT")
                    w.add(". ")
                elif roll < 0.50:
                    w.add("We sent our location ")
                    w.add(_gps(rng), "GPS")
                    w.add(f" to {rng.choice(ORGS)}. ")
                elif roll < 0.53:
                    w.add("The lawyer, Mrs. ")
                    w.add(last, "NAME")
                    w.add(", helped us. ")
                elif roll < 0.58 and terms:
                    term, kind = rng.choice(terms)
                    w.add("We stayed in ")
                    w.add(term, kind)
                    w.add(" for a week. ")
                else:
                    w.add(rng.choice(FILLER) + " ")
            w.add("\n")
        out.append(Labelled("".join(w.parts), w.spans))
    return out
