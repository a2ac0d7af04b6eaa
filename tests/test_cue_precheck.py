"""find_cues's pre-check (flows/lexicon/reference.py `_may_hold`) may let text through that holds no cue,
but must never turn away text where the cue regex matches: same results as the regex alone."""

import regex
from regex._regex import get_all_cases

from flows.lexicon import reference
from flows.lexicon.reference import _case_key, cues, find_cues


def test_case_key_agrees_with_ignorecase_matching():
    """Characters IGNORECASE matches to one another (İ, i, I, ı; σ, ς, Σ; ſ, s, S; K, k) get one key."""
    for code in range(0x110000):
        cases = get_all_cases(regex.IGNORECASE, code)
        if len(cases) > 1:
            assert len({_case_key(chr(c)) for c in cases}) == 1, [chr(c) for c in cases]
    assert _case_key("İSTANBUL") == _case_key("istanbul") == _case_key("ıstanbul")
    assert _case_key("ΛΈΓΟΝΤΑΣ") == _case_key("λέγοντας")


def _simple(changed: str, cue: str) -> str:
    """`changed` (cue.upper(), cue.title()) or, where a letter changed length (ß -> SS), the cue as is:
    IGNORECASE matches one character with one."""
    return changed if len(changed) == len(cue) else cue


def test_pre_check_passes_every_cue():
    """Every cue of every language, as written, in capitals, title-cased, with its spaces widened, inside
    a sentence: the pre-check lets it through to the regex."""
    rows = cues().select("language", "kind", "cue").unique().sort("language", "kind", "cue")
    for language, kind, cue in rows.iter_rows():
        language = "en" if language == reference.ANY_LANGUAGE else language
        for form in (cue, _simple(cue.upper(), cue), _simple(cue.title(), cue), cue.replace(" ", " \n ")):
            assert reference._may_hold(f"Dit is {form} een zin.", language, kind), (language, kind, form)


def test_pre_check_loses_no_cue(monkeypatch):
    """Turkish and Greek capitals, German ß: find_cues finds what the regex alone finds."""
    texts = {
        "tr": ["BAKAN AÇIKLADI Kİ sorun yok.", "Bakanlığa göre İDDİA doğru değil.", "Bakan, ıddıa etti."],
        "el": ["Ο ΥΠΟΥΡΓΟΣ ΔΉΛΩΣΕ ότι, ΣΎΜΦΩΝΑ ΜΕ την ΕΡΤ.", "σύμφωνα με την ΕΡΤ"],
        "de": ["LAUT POLIZEI war die STRASSE gesperrt, SAGTE ER.", "So der Sprecher."],
        "en": ["ACCORDING TO police, he SAID.", "He said\nthat."],
    }
    kinds = sorted(set(cues()["kind"]))
    for language, sentences in texts.items():
        for text in sentences:
            for kind in kinds:
                found = find_cues(text, language, kind)
                with monkeypatch.context() as m:
                    m.setattr(reference, "_may_hold", lambda *_: True)
                    assert found == find_cues(text, language, kind), (language, kind, text)


def test_pre_check_skips_text_without_cue_words():
    assert not reference._may_hold("Nothing of the sort here.", "en", "reporting_verb")
    assert reference._may_hold("The minister SAID so.", "en", "reporting_verb")
