"""Patient names: normalisation, Arabic transliteration and phonetic keys.

In Mauritania, Mali and Niger one person's name is written many ways: Mohamed, Mouhamed,
Mhamed; "Ould", "O." or "ولد"; Fatimetou, Fatimata or Fatma. Identity matching compares
names only after this module has reduced every spelling to one normal form
(:func:`normalize_name`) and each token to a consonant skeleton (:func:`phonetic_key`).
Why a purpose-built key instead of Soundex or Double Metaphone: docs/adr/0102-patient-matching.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import IntEnum
from functools import lru_cache
from types import MappingProxyType

OULD = "ould"
MINT = "mint"
EL = "el"
PARTICLES: frozenset[str] = frozenset({OULD, MINT, EL})
"""Connector tokens: "son of", "daughter of" and the article. Not names in themselves."""

_PARTICLE_ALIASES: Mapping[str, str] = {
    **dict.fromkeys(("o", "ould", "wuld", "weld", "wld", "ibn", "bin", "ben"), OULD),
    **dict.fromkeys(("mint", "bint", "bent", "mnt", "binti"), MINT),
    **dict.fromkeys(("el", "al"), EL),
}

# One group per line: the canonical spelling, then its variants and diminutives (a few family
# names too, where phonetics cannot tell: Ba / Bah). Every entry
# is already in normal form (a test checks it). Data, not code: extend it as clerks report
# variants; matching treats two names of one group as the same name.
_VARIANT_TABLE = """
mohamed: mohammed mohamad mohammad muhammad muhammed mouhamed mouhammed mouhamad mouhammad
  mohamedou mhamed mahamed mahamat mahamadou mohamd med
ahmed: ahmad ehmed ahmedou hmeida hmeyda hmaida
amadou: ahmadou amadu hamadou
mahmoud: mahmud mahmood mahmoudou
mamadou: mamoudou mamadu
hamid: hamed hamidou
abdallahi: abdellahi abdoullahi abdoulahi abdillahi abdullahi abdoulaye abdallah abdellah
  abdullah abdalla
cheikh: sheikh chekh cheick cheik chiekh shaikh cheikhou
sidi: sidy sid seydi
moctar: mokhtar mouctar mouktar moktar mukhtar
lemine: lamine elamine alamine amine
ibrahim: ibrahima brahim brahima ebrahim
ismail: ismael smail ismaila
youssouf: youssef yousouf yusuf youcef yousef
hassan: hacen hassane hasan
hussein: houssein housseine husein hussain
oumar: omar umar omer oumarou
ousmane: ousman othmane osman usman outhmane othman
moussa: mousa musa mussa
boubacar: boubakar aboubacar aboubakar abubakar abubakr aboubakr bakary
yahya: yahia yehya yaya
yacoub: yakoub yaqub yacouba yakouba yaacoub
souleymane: souleimane souleiman sleimane slimane suleiman soulaymane
ali: aly
issa: iessa
hadj: hadji elhadj elhadji alhadji hajj haj
moulaye: moulay mulay
salem: saalem
fatimetou: fatimata fatma fatima fatimatou fatoumata fatou fatouma
aminetou: aminata amina aminatou
mariem: mariam meriem maryam meryem mariama
khadijetou: khadija khadi khadijatou khadidja kadiatou kadidiatou kadija
aicha: aichetou aichata aissata aissatou aisha
zeinebou: zeineb zeinab zainab zeynab
hawa: haoua awa
ba: bah
diallo: djallo jallow diallou
"""

# Names that sound alike (same phonetic key) yet are different names: never equate them.
_DISTINCT_GROUPS = (
    ("mohamed", "mahmoud"),
    ("hassan", "hussein"),
    ("ahmed", "hamid"),
    ("lemine", "aminetou"),
    ("issa", "aicha"),
)

# So frequent that agreeing on them is weak evidence (frequency-based Fellegi-Sunter u).
_COMMON = """
mohamed ahmed amadou mamadou abdallahi cheikh sidi moctar lemine ibrahim oumar moussa boubacar
salem fatimetou aminetou mariem khadijetou aicha hawa zeinebou traore diallo coulibaly keita
diarra toure kone sow ba sy camara cisse sidibe maiga sangare dembele
"""

# Names of God that follow "Abd" ("servant of"): "Abdel Kader", "Abdoul Kader",
# "Abdelkader" and "عبد القادر" all become "abdkader".
_ABD_PREFIX_TEXT = (
    "abdoul abdech abdel abdal abdul abdou abdil abder abdar abdes abdas abden abdan abdu"
)
_DIVINE_NAMES = """
kader qader kadir qadir rahmane rahman rahim aziz karim kerim salam latif jelil jalil wahab
majid hamid ghani razak razzaq malik nasser nacer nasir hay hai fettah fattah wedoud wadoud
baki baqi hakim halim moumin mounaim rachid samad sattar jabbar nour ghafour ghaffar jawad
alim moutaleb mouttalib
"""
_ABD_PREFIXES = (*_ABD_PREFIX_TEXT.split(), "abd")  # longest first


def _parse_groups(table: str) -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for entry in re.split(r"\n(?=\S)", table.strip()):
        head, _, rest = entry.partition(":")
        groups[head] = frozenset({head, *rest.split()})
    return groups


NAME_VARIANTS: Mapping[str, frozenset[str]] = MappingProxyType(_parse_groups(_VARIANT_TABLE))
"""Canonical given name -> every known spelling, nickname and diminutive (itself included)."""

_CANONICAL: Mapping[str, str] = {
    variant: head for head, variants in NAME_VARIANTS.items() for variant in variants
}
_DISTINCT: frozenset[frozenset[str]] = frozenset(frozenset(pair) for pair in _DISTINCT_GROUPS)
_COMMON_NAMES: frozenset[str] = frozenset(_COMMON.split())


def canonical_name(token: str) -> str | None:
    """The canonical spelling of a known name token (``"hmeida"`` -> ``"ahmed"``), else None."""
    return _CANONICAL.get(token)


def is_common_name(token: str) -> bool:
    """True when the name (or its group) is so frequent that sharing it proves little."""
    return _CANONICAL.get(token, token) in _COMMON_NAMES


def are_distinct_names(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are known to be different names despite sounding alike."""
    ga, gb = _CANONICAL.get(a), _CANONICAL.get(b)
    return ga is not None and gb is not None and frozenset((ga, gb)) in _DISTINCT


# ---------------------------------------------------------------------------------------
# Arabic script
# ---------------------------------------------------------------------------------------

# Whole-word readings in the usual Mauritanian French spelling, keyed by the lookup form
# (no hamza seats, ى -> ي, ة -> ه). Words not listed are spelled letter by letter.
_ARABIC_WORDS_TABLE = """
محمد mohamed|احمد ahmed|محمود mahmoud|حميده hmeida|فاطمه fatimetou|خديجه khadijetou
مريم mariem|امنه aminetou|امينه aminetou|عايشه aicha|زينب zeinebou|شيخ cheikh|سيدي sidi
سيد sidi|مختار moctar|ابراهيم ibrahim|يحيي yahya|موسي moussa|عمر oumar|عثمان ousmane
علي ali|حسن hassan|حسين hussein|يوسف youssouf|اسماعيل ismail|سالم salem|امين amine
لمين lemine|مصطفي moustapha|مولاي moulaye|امبارك mbareck|محفوظ mahfoudh|حاج hadj
عبدالله abdallahi|عبدالرحمن abdrahmane|عبدالقادر abdkader|عبدالعزيز abdaziz
ابوبكر boubacar|بوبكر boubacar|يعقوب yacoub|سليمان souleymane|عيسي issa|حوا hawa
احمدو ahmedou|محمدو mohamedou|ولد ould|بنت mint|منت mint|بن ould|ابن ould|الله allah
"""
_ARABIC_WORDS: Mapping[str, str] = dict(
    item.strip().split(" ", 1)
    for item in _ARABIC_WORDS_TABLE.replace("\n", "|").split("|")
    if item.strip()
)

_ARABIC_LETTERS: Mapping[str, str] = {
    "ا": "a", "أ": "a", "آ": "a", "ٱ": "a", "إ": "i", "ء": "", "ؤ": "ou", "ئ": "i",
    "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "dh",
    "ر": "r", "ز": "z", "س": "s", "ش": "ch", "ص": "s", "ض": "d", "ط": "t", "ظ": "dh",
    "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ک": "k", "ل": "l", "م": "m", "ن": "n",
    "ة": "a", "ى": "a", "ڤ": "v", "ڥ": "v", "پ": "p", "گ": "g", "ڭ": "g", "ڨ": "g",
}  # fmt: skip
_ARABIC_RUN = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\u08a0-\u08ff]+")
_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_JOINED_KUNYA = re.compile(r"(?<![\u0620-\u064a])(عبد|ابو|أبو)\s+(?=[\u0620-\u064a])")
_LOOKUP_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                              "ؤ": "و", "ئ": "ي", "ء": None, "ی": "ي", "ک": "ك"})  # fmt: skip
_REPEATED_VOWEL = re.compile(r"([aeiou])\1+")


def _spell_arabic_letters(word: str) -> str:
    out: list[str] = []
    last = len(word) - 1
    for i, char in enumerate(word):
        if char == "ع":
            out.append("a" if i == 0 else "")  # ain: a vowel at the start, silent inside
        elif char in "وۆ":
            out.append("w" if i == 0 else "ou")
        elif char in "يی":
            out.append("y" if i == 0 else "i")
        elif char == "ه":
            out.append("a" if i == last and i > 0 else "h")  # final ه is often a ta marbuta
        else:
            out.append(_ARABIC_LETTERS.get(char, ""))
    return _REPEATED_VOWEL.sub(r"\1", "".join(out))


def _transliterate_word(word: str) -> str:
    key = word.translate(_LOOKUP_FOLD)
    if key in _ARABIC_WORDS:
        return _ARABIC_WORDS[key]
    if key.startswith("ال") and len(key) > 3:
        rest = key[2:]
        return "el " + _ARABIC_WORDS.get(rest, _spell_arabic_letters(word[2:]))
    return _spell_arabic_letters(word)


def transliterate_arabic(text: str) -> str:
    """Spell the Arabic-script words of ``text`` in Latin letters; leave the rest as is.

    Common names get their usual Mauritanian spelling (``محمد`` -> ``mohamed``, ``ولد`` ->
    ``ould``, ``بنت``/``منت`` -> ``mint``); other words are spelled letter by letter after
    removing the tashkeel: hamza seats become their vowel, ta marbuta and alif maqsura
    become ``a``, the article becomes ``el``. Short vowels are not written in Arabic, so
    the result is a consonant skeleton (``مختارو`` -> ``mkhtarou``) that
    :func:`phonetic_key` compares with Latin spellings.

    Args:
        text: any text; presentation forms are folded first (NFKC).

    Returns:
        The text with Arabic words replaced by lowercase Latin words (and, when it held
        Arabic, its runs of white space collapsed).
    """
    text = _TASHKEEL.sub("", unicodedata.normalize("NFKC", text))
    text = _JOINED_KUNYA.sub(r"\1", text)  # "عبد الله" and "عبدالله" are one name
    if not _ARABIC_RUN.search(text):
        return text
    spelled = _ARABIC_RUN.sub(lambda m: f" {_transliterate_word(m.group())} ", text)
    return " ".join(spelled.split())


# ---------------------------------------------------------------------------------------
# Latin script
# ---------------------------------------------------------------------------------------

_LATIN_EXTRA = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l",
                              "ı": "i", "þ": "th", "ŋ": "ng", "ɓ": "b", "ɗ": "d", "ƴ": "y",
                              "ƙ": "k", "ɲ": "ny"})  # fmt: skip
_APOSTROPHES = re.compile("['’‘`´ʼʻʹ′ʾʿ]")
_HYPHENS = re.compile("[-‐‑‒–—―−﹣]")
# "El-Hadj", "Ech-Cheikh", "Es-Saleck", "Ed-Dah": the article, assimilated or not.
_JOINED_ARTICLE = re.compile(
    r"(?<![a-z])[ae](?:l|ch|sh|dh|th|s|d|n|t|r|z|j)-(?=[a-z])|(?<![a-z])[ae]l'(?=[a-z])"
)
_NON_LETTERS = re.compile(r"[^a-z]+")


def _fold_latin(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LATIN_EXTRA))
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _HYPHENS.sub("-", _APOSTROPHES.sub("'", text))


def _split_compound(token: str) -> list[str]:
    """``sidahmed`` -> ``sid ahmed``, ``elmoctar`` -> ``el moctar`` (two names run together)."""
    if token in _CANONICAL or token in PARTICLES:
        return [token]
    for i in range(2, len(token) - 2):
        left, right = token[:i], token[i:]
        if right in _CANONICAL and (
            left in _CANONICAL or (left in _PARTICLE_ALIASES and len(left) > 1)
        ):
            return [_PARTICLE_ALIASES.get(left, left), right]
    return [token]


def _is_divine(rest: str) -> bool:
    return len(rest) >= 3 and phonetic_key(rest) in _DIVINE_KEYS


def _merge_abd(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = i + 2 if i + 2 < len(tokens) and tokens[i + 1] == EL else i + 1
        if token in _ABD_PREFIXES and nxt < len(tokens) and _is_divine(tokens[nxt]):
            out.append("abd" + tokens[nxt])
            i = nxt + 1
            continue
        for prefix in _ABD_PREFIXES:
            if token.startswith(prefix) and _is_divine(token[len(prefix) :]):
                token = "abd" + token[len(prefix) :]
                break
        out.append(token)
        i += 1
    return out


def _rewrite(tokens: list[str]) -> list[str]:
    tokens = [_PARTICLE_ALIASES.get(t, t) for t in tokens]
    tokens = [part for t in tokens for part in _split_compound(t)]
    return _merge_abd(tokens)


@lru_cache(maxsize=65536)  # names repeat a lot in a registry; pure function
def normalize_name(text: str) -> str:
    """The normal form of a name: lowercase ASCII words separated by single spaces.

    Arabic script is transliterated; case, accents, apostrophes and hyphens are folded
    ("M'Bareck" -> "mbareck", "El-Hadj" -> "el hadj"); particles are unified ("O.",
    "Wuld", "ولد" -> "ould"; "Bint", "Mnt" -> "mint"; "Al", "Ech-" -> "el"); "Abd"
    compounds are joined on the stem ("Abdel Kader", "Abdoulkader" -> "abdkader"); two
    known names run together are split ("Sid'Ahmed" -> "sid ahmed"). Idempotent.

    Args:
        text: a name or part of a name, in any script.

    Returns:
        The normalised name; empty when ``text`` holds no letters.
    """
    folded = _fold_latin(transliterate_arabic(text))
    folded = _JOINED_ARTICLE.sub("el ", folded).replace("-", " ").replace("'", "")
    tokens = _NON_LETTERS.sub(" ", folded).split()
    for _ in range(4):  # rewriting can expose another rewrite; stop at the fixed point
        rewritten = _rewrite(tokens)
        if rewritten == tokens:
            break
        tokens = rewritten
    return " ".join(tokens)


def name_tokens(*parts: str | None, keep_particles: bool = True) -> tuple[str, ...]:
    """The normalised tokens of a name given in parts (given names, family name...).

    Args:
        *parts: name parts in display order; ``None`` and blanks are skipped.
        keep_particles: keep ``ould``/``mint``/``el`` tokens (they carry filiation).

    Returns:
        The tokens, in order.
    """
    tokens = normalize_name(" ".join(p for p in parts if p)).split()
    return tuple(t for t in tokens if keep_particles or t not in PARTICLES)


# ---------------------------------------------------------------------------------------
# Phonetic key
# ---------------------------------------------------------------------------------------

# Feminine endings written -etou, -ata, -atou after the name (Fatimetou, Fatimata, Aminata).
_FEMININE_ENDING = re.compile(r"^([a-z]{3,}?)[aeiouy]+t+[aeiouy]+$")
_FINAL_H = re.compile(r"(?<=[aeiouy])h$")
_SOFT_C = re.compile(r"c(?=[eiy])")
_INITIAL_Y = re.compile(r"^y(?=[aeiou])")  # Yacoub, Yahya: a consonant, elsewhere a vowel
_SOUNDS = re.compile(r"sch|tch|ch|sh|kh|gh|dh|th|ph|dj|dg|ck|cq|ou|ee|.")
_SOUND_OF: Mapping[str, str] = {
    "sch": "C", "tch": "C", "ch": "C", "sh": "C", "kh": "h", "gh": "g", "dh": "d", "th": "t",
    "ph": "f", "dj": "j", "dg": "j", "ck": "k", "cq": "k", "ou": "u", "ee": "i", "c": "k",
    "q": "k", "v": "f", "p": "b", "x": "ks", "w": "u", "y": "i",
}  # fmt: skip
_VOWELS = frozenset("aeiou")
_DOUBLES = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)  # names repeat a lot in a registry; pure function
def phonetic_key(token: str) -> str:
    """A consonant skeleton that the usual spellings of one name share.

    Vowels are dropped after the first letter (an initial vowel is kept as ``A``), so
    ou/u/o, e/a/i and written-or-not short vowels agree (Mohamed, Muhammad, Mhamed and
    Arabic "mhmd" -> ``MHMD``). Digraphs are folded (ch/sh, kh/h, gh/g, dh/d, th/t, dj/j,
    c/k/q, v/f, p/b), doubled letters collapse, a final -h after a vowel is dropped and
    feminine endings are removed (Fatimetou, Fatimata, Fatma -> ``FTM``).

    Args:
        token: one name token, normally from :func:`normalize_name`; other text is
            normalised first and its words keyed together.

    Returns:
        The key in uppercase letters (``C`` stands for the "ch" sound); empty for no letters.
    """
    if not token.isascii() or not token.isalpha() or not token.islower():
        token = normalize_name(token).replace(" ", "")
    if not token:
        return ""
    token = _FEMININE_ENDING.sub(r"\1", token)
    token = _FINAL_H.sub("", token)
    token = _INITIAL_Y.sub("Y", _SOFT_C.sub("s", token))
    sounds = [_SOUND_OF.get(s, s) for s in _SOUNDS.findall(token)]
    folded = _DOUBLES.sub(r"\1", "".join(sounds))
    head = "A" if folded[0] in _VOWELS else folded[0].upper()
    return head + "".join(c for c in folded[1:] if c not in _VOWELS).upper()


_DIVINE_KEYS: frozenset[str] = frozenset(phonetic_key(n) for n in _DIVINE_NAMES.split())


# ---------------------------------------------------------------------------------------
# Comparing two name tokens
# ---------------------------------------------------------------------------------------


def jaro(a: str, b: str) -> float:
    """Jaro similarity of two strings, in [0, 1]."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    window = max(max(la, lb) // 2 - 1, 0)
    used = [False] * lb
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not used[j] and b[j] == char:
                used[j] = True
                matched_a.append(char)
                break
    m = len(matched_a)
    if not m:
        return 0.0
    matched_b = [b[j] for j in range(lb) if used[j]]
    half_transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True))
    return (m / la + m / lb + (m - half_transpositions / 2) / m) / 3


def jaro_winkler(
    a: str, b: str, *, prefix_scale: float = 0.1, max_prefix: int = 4, boost_above: float = 0.7
) -> float:
    """Jaro–Winkler similarity: Jaro, raised for a common prefix of up to ``max_prefix``.

    The arguments are put in a fixed order first, so the result is exactly symmetric.
    """
    if a > b:
        a, b = b, a
    similarity = jaro(a, b)
    if similarity <= boost_above:
        return similarity
    prefix = 0
    for x, y in zip(a[:max_prefix], b[:max_prefix], strict=False):
        if x != y:
            break
        prefix += 1
    return similarity + prefix * prefix_scale * (1.0 - similarity)


class NameAgreement(IntEnum):
    """How two name tokens agree, from strongest to none; DISTINCT is evidence against."""

    DISTINCT = -1
    DIFFERENT = 0
    SIMILAR = 1
    PHONETIC = 2
    VARIANT = 3
    EXACT = 4


@lru_cache(maxsize=65536)
def compare_name_tokens(a: str, b: str, similar_threshold: float = 0.9) -> NameAgreement:
    """How two normalised name tokens agree (exact, known variant, sound-alike...)."""
    if a == b:
        return NameAgreement.EXACT
    canonical = canonical_name(a)
    if canonical is not None and canonical == canonical_name(b):
        return NameAgreement.VARIANT
    if are_distinct_names(a, b):
        return NameAgreement.DISTINCT
    if phonetic_key(a) == phonetic_key(b):
        return NameAgreement.PHONETIC
    if jaro_winkler(a, b) >= similar_threshold:
        return NameAgreement.SIMILAR
    return NameAgreement.DIFFERENT
