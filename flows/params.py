"""Typed run parameters: what a user may change per run from the CLI, the Prefect UI or a schedule.

Prefect builds the deployment's parameter form and server-side validation from these types, so a
bad value is rejected before a run starts. Unset thresholds fall back to seeds/config.toml.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# ISO 639-1/639-3 code as fastText and the warehouse write it ("it", "vi", "ceb")
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
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


def check_languages(languages: list[str] | None, known: set[str]) -> list[str] | None:
    """Normalised language list, or ValueError naming the codes fastText cannot produce."""
    if languages is None:
        return None
    codes = sorted({code.strip().lower() for code in languages if code.strip()})
    unknown = [code for code in codes if code not in known]
    if unknown or not codes:
        raise ValueError(
            f"unknown language code(s) {unknown or languages}: use ISO 639 codes such as "
            f"{', '.join(sorted(known)[:8])}, ... ({len(known)} known)"
        )
    return codes
