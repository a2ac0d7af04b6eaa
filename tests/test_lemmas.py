"""The on-disk lemma index answers exactly as simplemma's in-memory dictionaries, and is only a cache."""

import random

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import DefaultDictionaryFactory

from flows.lexicon.lemmas import IndexedDictionary, IndexedDictionaryFactory


def test_the_index_gives_simplemmas_lemmas_and_is_built_once(tmp_path):
    memory = DefaultDictionaryFactory()
    indexed = IndexedDictionaryFactory(tmp_path)
    reference = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=memory))
    ours = Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=indexed))
    words = random.Random(7).sample(sorted(memory.get_dictionary("it")), 2000)
    words += [w.capitalize() for w in words[:300]] + ["dell'azienda", "Liegi", "Alibaba", "zzqx"]
    assert [ours.lemmatize(w, "it") for w in words] == [reference.lemmatize(w, "it") for w in words]
    built = list(tmp_path.rglob("it.sqlite"))
    assert len(built) == 1 and isinstance(indexed.get_dictionary("it"), IndexedDictionary)
    # another process (a new factory) opens the same file instead of decoding again
    again = IndexedDictionaryFactory(tmp_path).get_dictionary("it")
    assert isinstance(again, IndexedDictionary) and again.path == built[0]
    assert len(again) == len(memory.get_dictionary("it"))


def test_a_folder_that_cannot_be_written_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder would go")
    factory = IndexedDictionaryFactory(blocker)
    dictionary = factory.get_dictionary("it")
    assert not isinstance(dictionary, IndexedDictionary) and dictionary.get("case") == "casa"
