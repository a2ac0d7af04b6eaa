"""Typed run parameters: what a user may change per run from the CLI, the Prefect UI or a schedule.

Prefect builds the deployment's parameter form and server-side validation from these types, so a
bad value is rejected before a run starts. Unset thresholds fall back to seeds/config.toml.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


@cache
def _known_codes() -> tuple[str, ...]:
    from flows.extract.langid import known_codes

    return tuple(known_codes())


class _OneOfTheKnownCodes:
    """In the JSON schema (the deployment's form and the server's validation): an enum of the codes, so
    the UI offers them and the server's refusal lists them ("'Italian' is not one of ['af', ...]")."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema["enum"] = list(_known_codes())
        return schema


def _known_code(code: str) -> str:
    if code not in _known_codes():
        raise ValueError(unknown_languages([code], _known_codes()))
    return code


# An ISO 639 code as fastText and the warehouse write it ("it", "vi", "ceb", "sr-Latn"): one of the codes
# language ID can produce, checked when the type is validated and listed in the JSON schema
LanguageCode = Annotated[str, AfterValidator(_known_code), _OneOfTheKnownCodes()]
BatchSize = Annotated[int, Field(ge=1, le=100_000)]

# parameter field -> (config.toml section, key)
SETTING_OF = {
    "low_confidence": ("language", "low_confidence"),
    "mixed_share": ("language", "mixed_share"),
    "claim_min_words": ("claims", "min_words"),
    "story_threshold": ("linking", "story_threshold"),
    "story_window_days": ("linking", "story_window_days"),
    "claim_threshold": ("linking", "claim_threshold"),
}


class Thresholds(BaseModel):
    """Thresholds for this run; leave a field empty to use seeds/config.toml."""

    model_config = ConfigDict(extra="forbid")

    low_confidence: float | None = Field(
        None, ge=0, le=1, description="article language confidence below this is flagged low_confidence"
    )
    mixed_share: float | None = Field(
        None, ge=0, le=1, description="share of body text in another language that flags mixed_language"
    )
    claim_min_words: int | None = Field(None, ge=1, le=200, description="shorter body sentences are not claims")
    story_threshold: float | None = Field(
        None,
        ge=0,
        le=2,
        description="score an article needs to join a story (embedding cosine plus entity and time evidence)",
    )
    story_window_days: int | None = Field(
        None, ge=0, le=3650, description="days after which a story takes no new article"
    )
    claim_threshold: float | None = Field(
        None, ge=0, le=1, description="probability two claims of a story need to be linked as one claim"
    )

    def overrides(self) -> dict[str, dict]:
        """The set fields as {section: {key: value}} for flows.config.overridden."""
        out: dict[str, dict] = {}
        for name, value in self.model_dump(exclude_none=True).items():
            section, key = SETTING_OF[name]
            out.setdefault(section, {})[key] = value
        return out


def check_languages(languages: list[str] | None, known) -> list[str] | None:
    """Normalised language list (case folded to the code as written: "IT" -> "it", "sr-latn" -> "sr-Latn"),
    or ValueError naming the codes fastText cannot produce and every code it can."""
    if languages is None:
        return None
    by_folded = {code.lower(): code for code in known}
    given = [code.strip() for code in languages if code.strip()]
    unknown = [code for code in given if code.lower() not in by_folded]
    if unknown or not given:
        raise ValueError(unknown_languages(unknown or languages, known))
    return sorted({by_folded[code.lower()] for code in given})


def unknown_languages(codes: list[str], known) -> str:
    """One line: which codes are not accepted, what was probably meant, and which codes are."""
    known = sorted(known)
    codes = [code for code in codes if code.strip()]
    if not codes:
        head = "no language code given"
    elif len(codes) == 1:
        head = f"{codes[0]!r} is not a language code fastText identifies"
    else:
        head = f"{', '.join(map(repr, codes))} are not language codes fastText identifies"
    meant = {code: hint for code in codes if (hint := _meant(code, known))}
    if len(codes) == 1 and meant:
        head += f" (did you mean {meant[codes[0]]!r}?)"
    elif meant:
        head += " (did you mean " + ", ".join(f"{hint!r} for {code!r}" for code, hint in meant.items()) + "?)"
    return f"{head}; accepted: the {len(known)} ISO 639 codes fastText lid.176 writes: {', '.join(known)}"


def _meant(text: str, known: list[str]) -> str | None:
    """The known code a language name ("Italian"), an ISO 639-2/3 code ("ita") or a tag ("it-IT") stands for."""
    import langcodes
    from babel import Locale

    folded = text.strip().casefold()
    english = {name.casefold(): code for code, name in Locale("en").languages.items()}
    candidates = [english.get(folded, "")]
    try:
        candidates.append(langcodes.standardize_tag(text.strip(), macro=False))
        candidates.append(langcodes.get(text.strip()).language or "")
    except (ValueError, LookupError):
        pass
    by_folded = {code.lower(): code for code in known}
    return next((by_folded[c.lower()] for c in candidates if c and c.lower() in by_folded), None)
