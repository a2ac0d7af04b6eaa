"""Lemmas and dictionary look-ups (simplemma), with room for every language of a mixed corpus.

simplemma's module-level helpers keep 8 language dictionaries; a batch in more languages evicts and
re-reads them (over a second each). One factory here holds them all.
"""

from __future__ import annotations

from functools import lru_cache

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy
from simplemma.strategies.dictionaries import DefaultDictionaryFactory

_FACTORY = DefaultDictionaryFactory(cache_max_size=64)
_LEMMATIZER = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_FACTORY))
_LOOKUP = DictionaryLookupStrategy(_FACTORY)


@lru_cache(maxsize=200_000)
def lemma(word: str, language: str) -> str:
    """The lemma of `word`, or `word` itself in a language simplemma does not cover."""
    try:
        return _LEMMATIZER.lemmatize(word, language)
    except (ValueError, KeyError):
        return word


@lru_cache(maxsize=200_000)
def is_known(word: str, language: str) -> bool:
    """Whether `word` is in the language's dictionary (an ordinary word, not a name)."""
    try:
        return _LOOKUP.get_lemma(word, language) is not None
    except (ValueError, KeyError):
        return False
