"""Who says what: the outlets an article cites, and the source each claim is attributed to.

Evidence, strongest first:
  source_line   "Source: X", "Källor: X och Y", "(Theo FT)" at the end of the body
  according_to  "according to X", "secondo X", "enligt X", "według X", "theo X"
  reported      a reporting verb with its speaker: "X said", "CNN rapporterar", "Holslag nói"
  mention       a known outlet named in the body with no cue around it
Claims are the body sentences that assert something, split into clauses where a contrastive connective
("but", "while", "mentre") separates two statements with sources of their own. A claim's source, in order:
its own cue (quote / reported / according_to); the previous speaker when the sentence only goes on with
what they said (a continuation opener, or a quotation still open: 'inherited'); otherwise the article's own
voice: its outlet ('own_voice'), or — when the outlet is unknown — the outlet its source line names, else
the outlet it says the news comes from ('source_line'). A claim with none of these keeps a NULL source
and the audit quarantines it.

Who a source phrase is (source_kind):
  outlet / agency  a known outlet (seeds/aliases/outlets.csv) in the phrase; the article's own outlet named
                   in its text is its own voice, never a citation (its byline, dateline or footer)
  speaker          a name ('Kevin Cartwright', 'Morocco’s interior ministry'), or a description that stands
                   for someone the article names ('the company', 'il docente': `descriptor_*` cues), which
                   flows/link/sources.py resolves to that earlier entity
  description      people named by no one, as a group or a role: a short phrase around an `agent` cue
                   ('officials said', 'Authorities fear', 'laut Rettungskräften', 'bölgedeki muhabirler',
                   '当局によると'). A legitimate source: it keeps its own words as name and surface, is not
                   resolved to an entity and is no entity mention; the claims expectation accepts it when its
                   name is the words written in the article.
Photo credits ('Foto: dpa/…', '© Reuters') cite the known agencies they name (how = 'mention').
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace

import polars as pl

from flows.config import setting
from flows.lexicon import lemmas
from flows.lexicon.gazetteer import fold, is_cased, non_names, org_words
from flows.lexicon.names import descriptor_type, function_words, name_spans, resolve_outlet, tokens
from flows.lexicon.reference import OutletHit, find_cues, find_outlets, unspaced
from flows.warehouse.tables import CLAIMS

CITATION_SCHEMA = {
    "citation_id": pl.String,
    "article_id": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "how": pl.String,
    "surface": pl.String,
    "sentence_id": pl.String,
    "evidence_count": pl.Int32,
}

# what extraction fills in; linking adds the entity and quantity links
CLAIM_COLUMNS = [
    "claim_id",
    "article_id",
    "sentence_id",
    "text",
    "language",
    "source_name",
    "source_kind",
    "attribution",
    "cue",
    "source_surface",
    "source_start",
    "source_end",
    "cue_start",
    "cue_end",
    "start_char",
    "end_char",
]

STRENGTH = {"source_line": 3, "according_to": 2, "reported": 1, "mention": 0}
CONTENT_KINDS = ("body", "headline", "subheading")
_QUOTE_CHARS = '“”„«»‹›"‘’‚「」『』'
# quotation styles: “…” (en, it, vi), „…“ (de, pl), „…” (pl), «…» (fr, it), »…« (de, sv), "…"
_QUOTED = re.compile(
    r"“[^“”]{3,}”|„[^„“”]{3,}[“”]|«[^«»]{3,}»|»[^«»]{3,}«|‹[^‹›]{3,}›|\"[^\"]{3,}\"|「[^「」]{2,}」|『[^『』]{2,}』"
)
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]“”„«»‹›\"–—،؛，；：（）、「」『』]")
_ASIDE = re.compile(r"[(（][^()（）]{1,12}[)）](?=\S)")  # '(USGS)' glued to the next word
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_MAX_PHRASE_TOKENS = 6
_MAX_DESCRIPTION_WORDS = 3  # 'the ship's crew', 'Greek rescue services'
MAX_SOURCE_CHARS = 80  # a speaker phrase longer than this is a clause, not a source
MAX_SOURCE_CHARS_UNSPACED = 16  # ... in Chinese, Japanese, Thai, Korean


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # outlet | agency | speaker | description | unknown
    attribution: str  # quote | reported | according_to | source_line | inherited | own_voice
    cue: str
    surface: str = ""  # the words that name the source, as written
    start: int = -1  # offsets of `surface` and of the cue in the text the source was found in
    end: int = -1
    cue_start: int = -1
    cue_end: int = -1


# ---------------------------------------------------------------- source phrases


def _strip_function_words(phrase: str, language: str) -> str:
    if language in setting("names", "syllabic_languages"):
        return phrase.strip(" .,;:’'")  # a syllable is not a word there: 'Cơ quan' would lose 'Cơ'
    fw = function_words(language)
    words = phrase.split()
    while words and words[0].casefold().strip("’'") in fw:
        words.pop(0)
    if words and (m := re.match(r"(\w{1,4})['’](?=\w)", words[0])) and m.group(1).casefold() in fw:
        words[0] = words[0][m.end() :]  # an elided article: "L’azienda" -> "azienda"
    return " ".join(words).strip(" .,;:’'")


def _as_source(phrase: str, language: str, according: bool = False) -> tuple[str, str] | None:
    """A phrase as (name, kind): an outlet when it names one, else the phrase itself as a speaker.

    A phrase too long to be a name or a description (a whole clause, in scripts without capitals or
    spaces to stop at) is no source: the claim then falls back to who else can be known. After an
    'according to' cue (`according`) a short description is a source too: 'nach Angaben der Besatzung',
    'laut Rettungskräften', 'according to witnesses'."""
    for hit in find_outlets(phrase):
        return hit.name, hit.kind
    if len(phrase) > MAX_SOURCE_CHARS or (unspaced(phrase) and len(phrase) > MAX_SOURCE_CHARS_UNSPACED):
        return None
    for span in name_spans(phrase, language):
        if resolved := resolve_outlet(span.text):
            return resolved
    phrase = _strip_function_words(phrase, language)
    if not phrase or not any(ch.isalpha() for ch in phrase):
        return None
    if _is_document(phrase, language):
        return phrase, "document"  # '«…», – йдеться в повідомленні': the issuer's, resolved in extract_claims
    if _is_description(phrase, language):
        return phrase, "description"  # 'officials', 'Rettungskräften', 'bölgedeki muhabirler'
    if not is_cased(phrase) or descriptor_type(phrase, language):
        return phrase, "speaker"  # no capitals to go by, or a description resolved to a name later
    if according and 1 <= len(phrase.split()) <= _MAX_DESCRIPTION_WORDS:
        return phrase, "speaker"
    # in a script with capitals, a source names someone: "statement issued to media outlets",
    # "wet- en regelgeving te houden" or German "Informationen" name no one
    skip = non_names(language)
    names = [
        n
        for n in name_spans(phrase, language)
        if not _common_noun_run(n.text, language) and fold(n.text) not in skip and n.text.casefold() not in skip
    ]
    if not names and not any(fold(w) in org_words(language) for w in phrase.split()):
        return None  # "the federal statistics office" names an organisation: an org word is enough
    return phrase, "speaker"


def _is_document(phrase: str, language: str) -> bool:
    """The phrase is a `document` noun and at most one more word: 'повідомленні', 'the statement', 'dem Bericht'."""
    hits = find_cues(phrase, language, "document")
    if not hits:
        return False
    fw = function_words(language)
    rest = (phrase[: hits[0][0]] + " " + phrase[hits[0][1] :]).split()
    # 'a UN report' is the UN's: one more word at most, and no name ('повідомленні', 'the joint statement')
    rest = [w for w in rest if w.casefold() not in fw]
    return len(rest) <= 1 and not any(w[:1].isupper() for w in rest)


def _is_description(phrase: str, language: str) -> bool:
    """A short phrase that says who speaks without naming them: an `agent` noun ('officials', 'rescuers',
    'Rettungskräfte', 'очевидцы', '当局') with at most a few words around it ('Greek rescue services',
    'sources at the site'). A description that stands for someone named earlier ('the company', 'the
    minister': `descriptor_*`) is not one: it is resolved to that entity."""
    if not find_cues(phrase, language, "agent") or descriptor_type(phrase, language):
        return False
    if unspaced(phrase):
        return True  # already at most MAX_SOURCE_CHARS_UNSPACED letters
    fw = function_words(language)
    return len([w for w in phrase.split() if w.casefold() not in fw]) <= _MAX_DESCRIPTION_WORDS


def _common_noun_run(text: str, language: str) -> bool:
    """In a language that capitalises every noun, a run of words the dictionary knows ('Berichten')."""
    if language not in setting("names", "capitalised_nouns"):
        return False
    return all(lemmas.is_known(w, language) or lemmas.is_known(w.lower(), language) for w in text.split())


def _marked_subject(text: str, cue_start: int, language: str) -> str | None:
    """The subject a particle closes at the head of the sentence, before its reporting verb: ja
    'ムーア知事は記者会見で「…」と述べた', '岸田首相が「…」と話した', ko '바이든 대통령은 "…"고 말했다'
    (`subject_marker` cues). The first marker outside a quotation whose phrase is short enough to be a
    name wins: a later one is the subject of what is said."""
    for a, _z, _ in find_cues(text[:cue_start], language, "subject_marker"):
        if a == 0 or text[a - 1].isspace() or _inside_quotation(text[:cue_start], a):
            continue  # a particle is written onto its word: ko '이 회사' (this company) opens no subject
        if _HANGUL.match(text, a + 1):
            continue  # ko: the syllable is inside a word ('국가의'), not a particle
        head = 0
        asides = [(m.start(), m.end()) for m in _ASIDE.finditer(text, 0, a + 1)]
        for m in _CLAUSE_BREAK.finditer(text, 0, a):
            if not any(x <= m.start() < y for x, y in asides):
                head = m.end()  # 'その後、X は': the subject after a leading adverbial
        phrase = text[head:a].strip()
        if not phrase or _QUOTED.search(phrase) or _not_a_subject(phrase, language):
            continue
        if _as_source(phrase, language) is not None:
            return phrase
    return None


def _not_a_subject(phrase: str, language: str) -> bool:
    """A phrase that holds an object or adverbial particle (ja '取締役会を離れることを', '原因について') or opens
    with one (ja 'のサービス', the tail of a name in quotation marks) is not the subject a marker closes."""
    return any(cue.position == "either" or a == 0 for a, _z, cue in find_cues(phrase, language, "not_subject"))


def _before_setting(text: str, clause_start: int, clause: str, language: str) -> str | None:
    """zh '馬里蘭州州長摩爾在記者會上表示', '…(Johnny Olszewski, Jr.) 在X平台上表示': a phrase saying where or
    to whom the speaker speaks (`speech_setting`) sits between the speaker and the verb; the speaker is
    before it. A name in Latin letters in parentheses right before it is the speaker's own spelling of it."""
    hits = find_cues(clause, language, "speech_setting")
    if not hits:
        return None
    lead = len(clause) - len(clause.lstrip())
    at = hits[0][0]
    if at > lead:
        return clause[:at].strip() or None
    before = text[:clause_start].rstrip(" ,，、")
    if (m := re.search(r"[(（]([^()（）]{2,60})[)）]$", before)) and (names := name_spans(m.group(1), language)):
        return names[0].text
    return None


def _phrase_before(text: str, cue_start: int, language: str) -> str | None:
    """The subject of a reporting verb: the clause before it, or an appositive subject ('X, title, said');
    never a phrase no subject can be (ja '…を離れることを', '現在後任を探している')."""
    phrase = _clause_before(text, cue_start, language)
    return None if phrase is None or _not_a_subject(phrase, language) else phrase


def _clause_before(text: str, cue_start: int, language: str) -> str | None:
    if subject := _marked_subject(text, cue_start, language):
        return subject
    segment_start = 0
    for m in _QUOTED.finditer(text, 0, cue_start):
        embedded = m.group(0)[-2:-1].isalnum() and not re.search(r"[,;:—–-]", text[m.end() : cue_start])
        if not embedded:  # a quotation inside the clause: tr 'durumun "içler acısı" olduğu kaydetti'
            segment_start = m.end()  # after a quotation: “...”, Holslag said
    while segment_start < cue_start and text[segment_start] in " ,.":
        segment_start += 1
    segment = text[segment_start:cue_start]
    names = name_spans(text, language, segment_start, cue_start)
    lead = segment.lstrip()
    first = names[0] if names else None
    last_break = max((m.end() for m in _CLAUSE_BREAK.finditer(text, segment_start, cue_start)), default=-1)
    if last_break > segment_start:
        tail = text[last_break:cue_start].strip()
        whole = name_spans(tail, language)
        if tail and len(whole) == 1 and whole[0].text == tail and (" " in tail or resolve_outlet(tail)):
            return tail  # "…, was awarded the Nobel Peace Prize on Friday, Bol News reported"
    acronym = re.match(r"\s*\([^()]{1,12}\)", text[first.end : cue_start]) if first else None
    after_first = first.end + (acronym.end() if acronym else 0) if first else 0
    if (
        first
        and first.start == segment_start + len(segment) - len(lead)
        and text[after_first : after_first + 1] == ","
        and len(first.text.split()) >= 2
        and not first.text.isupper()
    ):
        return first.text  # appositive: "Jonathan Holslag, docente presso ..., ha confermato" (not a dateline)
    clause_start = segment_start
    asides = [(m.start(), m.end()) for m in _ASIDE.finditer(text, segment_start, cue_start)]
    for m in _CLAUSE_BREAK.finditer(text, segment_start, cue_start):
        if not any(a <= m.start() < z for a, z in asides):
            clause_start = m.end()  # an acronym in parentheses is part of the name: '美國地質調查局(USGS)資料顯示'
    clause = text[clause_start:cue_start]
    if placed := _before_setting(text, clause_start, clause, language):
        return placed
    comp = find_cues(clause, language, "complementizer")
    if comp:
        tail = clause[comp[-1][1] :].strip()
        if tail and _is_description(_strip_function_words(tail, language), language):
            return tail  # "territory that scientists believe": the subject after the relative pronoun
        head = clause[: comp[-1][0]]
        if 1 <= len(tokens(head)) <= 3 and _strip_function_words(head, language):
            return head.strip()  # a relative clause: "L’azienda che gestisce ... ha negato" -> L’azienda
        clause = clause[comp[-1][1] :]
    toks = tokens(clause)
    lead = clause.lstrip()
    skip = non_names(language)
    for n in name_spans(clause, language):
        core = _strip_function_words(n.text, language)
        if not core or fold(core) in skip:
            continue  # 'Mittwoch', 'The'
        starts_clause = n.start == len(clause) - len(lead)
        if starts_clause and " " in core:
            return n.text  # "Alibaba Group rzecz jasna wszystkiemu zaprzecza"
    names_in_clause = [n for n in name_spans(clause, language) if len(n.text.split()) >= 2]
    if names_in_clause and not clause[names_in_clause[-1].end :].strip() and 1 < len(toks):
        last = names_in_clause[-1].text.split()
        if all(w[:1].isupper() and w[1:].islower() for w in last):
            name = names_in_clause[-1].text  # "statistics office president Ruth Brand" -> Ruth Brand
            return _without_place(name, language)  # 'Le procureur de Paris Rémy Heitz' -> Rémy Heitz
    if len(toks) > _MAX_PHRASE_TOKENS:
        # two clauses joined by 'and': the subject of the second ('… της κακοκαιρίας Daniel και ο δήμαρχος ζητά')
        joins = find_cues(clause, language, "list_separator")
        if joins and 1 <= len(tokens(clause, joins[-1][1])) <= 3:
            clause = clause[joins[-1][1] :]
            toks = tokens(clause)
    if 1 <= len(toks) <= _MAX_PHRASE_TOKENS:
        # trailing function words and dates are not the speaker: "die Hafenbehörde am Mittwoch"
        fw = function_words(language)
        while len(toks) > 1 and (toks[-1][2].casefold() in fw or fold(toks[-1][2]) in skip):
            toks = toks[:-1]
        return clause[toks[0][0] : toks[-1][1]].strip()
    near = [
        n
        for n in names
        if n.end <= cue_start and len(tokens(text, n.end, cue_start)) <= setting("claims", "speaker_window")
    ]
    return near[-1].text if near else None


def _without_place(name: str, language: str) -> str:
    """A person's name with the place a title named run onto it dropped: 'Paris Rémy Heitz' -> 'Rémy Heitz'."""
    from flows.lexicon import gazetteer

    words = name.split()
    while len(words) > 2 and (entry := gazetteer.lookup(words[0], language)) is not None and entry.type == "LOC":
        words = words[1:]
    return " ".join(words)


def _phrase_after(text: str, cue_end: int, language: str) -> str | None:
    """The source after 'according to' / 'said': a name that opens the phrase, else the phrase up to
    the next clause break (at most a few tokens)."""
    if q := re.match(r"\s*[“„«‹\"‘「『]", text[cue_end:]):
        cue_end += q.end()  # a name in quotation marks: uk 'повідомили в “Роскосмосі”'
    m = _CLAUSE_BREAK.search(text, cue_end)
    stop = m.start() if m else len(text)
    fw, skip = function_words(language), non_names(language)
    # 'according to what X announced' (ar 'وفق ما أعلنت X', it 'secondo quanto riferito da X'): the source
    # follows the verb
    for a, z, verb in find_cues(text[cue_end:stop], language, "reporting_verb"):
        lead = tokens(text, cue_end, cue_end + a)
        if (
            a == 0
            or verb.position == "after"
            or (verb.position == "either" and all(t[2].casefold() in fw for t in lead))
        ):
            cue_end += z  # ar 'وفق آخر حصيلة أعلنتها وزارة الداخلية' (… the toll the ministry announced)
        else:
            stop = cue_end + a  # the verb closes the source: zh '據摩洛哥內政部表示'
            m = None
        break
    # the source ends where what it says begins: ar 'ذكر المكتب أن …', es 'señaló el ministro que …'
    for a, _, _ in find_cues(text[cue_end:stop], language, "complementizer"):
        if a > 0:
            stop = cue_end + a
            m = None
        break
    toks = tokens(text, cue_end, stop)[: _MAX_PHRASE_TOKENS + 2]
    if not toks:
        return None
    phrase = text[toks[0][0] : toks[-1][1]]
    if outlets_named := find_outlets(phrase):
        # an outlet told, then who told it: el 'δήλωσε τηλεφωνικά στο Reuters ο Χισέμ Σκιουάτ' (said by phone
        # to Reuters Hisham Chkiouat): the person speaks, the outlet is who they spoke to
        after = [n for n in name_spans(phrase, language) if n.start >= outlets_named[-1].end]
        if after and _names_a_person(after[-1].text, language) and not resolve_outlet(after[-1].text):
            return after[-1].text
        return phrase  # _as_source picks the outlet out of it
    # trailing function words and days are not the source: 'أعلنت وزارة الخارجية الخميس' (… on Thursday)
    while len(toks) > 1 and (toks[-1][2].casefold() in fw or fold(toks[-1][2]) in skip):
        toks = toks[:-1]
    phrase = text[toks[0][0] : toks[-1][1]]
    agents = find_cues(phrase, language, "agent")
    content = [t for t in toks if t[2].casefold() not in fw]
    if agents and not unspaced(phrase) and len(content) > _MAX_DESCRIPTION_WORDS:
        # a description and then what it says: el 'Σύμφωνα με πληροφορίες αραβικών μέσων οι νεκροί ...'
        cut = toks[0][0] + agents[0][1]
        if len(tokens(text, toks[0][0], cut)) <= _MAX_DESCRIPTION_WORDS:
            return text[toks[0][0] : cut]
    names = name_spans(text, language, cue_end, toks[-1][1])
    if names:
        head = tokens(text, toks[0][0], names[0].start)
        ends = not text[toks[-1][1] : stop].strip(" .!?…")
        last = names[-1].text.split()
        if ends and names[-1].end == toks[-1][1] and len(last) >= 2 and all(w[:1].isupper() for w in last):
            if any(t[2].casefold() not in fw for t in head):
                return names[-1].text  # a title and a person: 'à ses côtés le général Jean-Claude Gallet'
        rest = tokens(text, names[0].end, toks[-1][1])
        described = any(t[2].casefold() not in fw for t in head) or (
            rest and all(t[2][:1].islower() for t in rest)  # 'l’Institut de géophysique américain'
        )
        if is_cased(phrase) and len(toks) <= _MAX_PHRASE_TOKENS and described and ends:
            # a description that holds a name is the source, not the name: 'le ministère de l'Intérieur',
            # 'les pompiers de Paris', 'le Centre national pour la recherche scientifique'
            return phrase
        return names[0].text  # "theo dữ liệu của Ngân hàng Quốc gia Bỉ" -> the bank
    if m is not None and text[m.start()] == ",":
        # an appositive name after a title: "a déclaré le directeur général, Boudewijn Siemons, lors ..."
        after = name_spans(text, language, m.end(), min(len(text), m.end() + 60))
        closes = text[after[0].end :].strip()[:1] in ("", ",", ".", ";") if after else False
        if after and not text[m.end() : after[0].start].strip() and closes:
            return after[0].text
    return text[toks[0][0] : toks[-1][1]]


def _located(text: str, phrase: str, lo: int, hi: int) -> tuple[int, int]:
    """Where `phrase` sits in text[lo:hi] (the last occurrence), or (-1, -1)."""
    at = text.rfind(phrase, lo, hi) if phrase else -1
    return (at, at + len(phrase)) if at >= 0 else (-1, -1)


def _inverted(text: str, start: int, end: int, language: str) -> bool:
    """A reporting verb after a comma that ends its clause with a short subject ("…, rapportent des médias
    français", "…, said the minister"): the source is after it. Not "X, title, disse à AP que …"."""
    if not text[:start].rstrip().endswith((",", "،", "，")):
        return False
    m = _CLAUSE_BREAK.search(text, end)
    rest = text[end : m.start() if m else len(text)]
    rest = re.split(r"[.!?。！？](?=\s|[^\W\d_]|$)", rest, maxsplit=1)[0]  # 'français.La cathédrale …
    return len(tokens(rest)) <= _MAX_PHRASE_TOKENS and not find_cues(rest, language, "complementizer")


def sentence_source(text: str, language: str) -> Source | None:
    """The source a sentence (or clause) names for itself, if any."""
    according = _according_source(text, language)
    if according is not None and according.kind in ("outlet", "agency"):
        # "Deputy mayor X said …, according to the Associated Press": X speaks, the agency relays it
        spoken = _reported_source(text[: according.cue_start], language)
        if spoken is not None and spoken.kind == "speaker" and _names_a_person(spoken.name, language):
            return spoken  # (an organisation's announcement stays the agency's: '…, selon l'agence Reuters')
    return according or _reported_source(text, language)


def _names_a_person(phrase: str, language: str) -> bool:
    """The phrase ends with a person's name: two or more capitalised words, none an organisation word."""
    spans = name_spans(phrase, language)
    words = spans[-1].text.split() if spans else []
    orgs = org_words(language)
    return (
        len(words) >= 2
        and all(w[:1].isupper() and not w.isupper() for w in words)
        and not any(fold(w) in orgs for w in words)
    )


def _according_source(text: str, language: str) -> Source | None:
    for start, end, cue in find_cues(text, language, "according_to"):
        before = cue.position == "before"
        phrase = _phrase_before(text, start, language) if before else _phrase_after(text, end, language)
        if phrase and (src := _as_source(phrase, language, according=True)):
            a, z = _located(text, phrase, 0, start) if before else _located(text, phrase, end, len(text))
            return Source(src[0], src[1], "according_to", text[start:end], phrase, a, z, start, end)
    return None


def _reported_source(text: str, language: str) -> Source | None:
    quoted = bool(_QUOTED.search(text))
    verbs = find_cues(text, language, "reporting_verb")
    for i, (start, end, cue) in enumerate(verbs):
        if i + 1 < len(verbs) and not text[end : verbs[i + 1][0]].strip():
            continue  # a verb's form as the subject's noun: 'Local reports say', 'media reports said'
        after_quote = any(re.fullmatch(r"[\s,.]*", text[q.end() : start]) for q in _QUOTED.finditer(text, 0, start))
        # "…, rapportent des médias français": a verb right after a comma has its subject after it
        inverted = cue.position == "either" and _inverted(text, start, end, language)
        order = (
            ("after", "before")
            if cue.position == "after" or (cue.position == "either" and (after_quote or inverted))
            else ("before", "after")
        )
        if cue.position == "before":
            order = ("before",)
        for side in order:
            phrase = _phrase_before(text, start, language) if side == "before" else _phrase_after(text, end, language)
            if phrase and (src := _as_source(phrase, language)):
                a, z = _located(text, phrase, 0, start) if side == "before" else _located(text, phrase, end, len(text))
                return Source(
                    src[0], src[1], "quote" if quoted else "reported", text[start:end], phrase, a, z, start, end
                )
    return None


# ---------------------------------------------------------------- citations


def _source_line_items(text: str, language: str) -> list[str]:
    inner = text.strip()
    if inner[:1] in "(（[【" and inner[-1:] in ")）]】":
        inner = inner[1:-1]
    hits = find_cues(inner, language, "source_label")
    rest = inner[hits[0][1] :] if hits else inner
    rest = rest.strip(" :：")
    seps = [re.escape(c.text) for _, _, c in find_cues(rest, language, "list_separator")]
    pattern = r"\s*[,;/&|、，；]\s*" + "".join(rf"|\s+{s}\s+" for s in set(seps))
    return [item.strip(" .()[]（）【】。") for item in re.split(pattern, rest) if item.strip(" .()[]（）【】。")]


def _has_attribution_cue(text: str, language: str) -> bool:
    return bool(find_cues(text, language, "according_to") or find_cues(text, language, "reporting_verb"))


def _own_outlet_names(outlet: str | None) -> set[str]:
    """The names the article's own outlet goes by: its byline, dateline or footer is no citation."""
    if not outlet:
        return set()
    resolved = resolve_outlet(outlet)
    return {fold(outlet)} | ({fold(resolved[0])} if resolved else set())


def _credits(text: str, language: str) -> list[OutletHit]:
    """Known outlets and agencies a photo credit names after its caption cue ('Foto: dpa/Kaitlin Newman')."""
    hits = find_cues(text, language, "caption")
    if not hits:
        return []
    start = hits[0][0]
    return [h for h in find_outlets(text) if h.start >= start]


def _article_citations(
    article_id: str, language: str, sents: list[dict], sources: dict[str, Source], outlet: str | None = None
) -> list[dict]:
    found: dict[str, dict] = {}
    own_outlet = _own_outlet_names(outlet)

    def add(name, kind, how, surface, sid):
        if fold(name) in own_outlet:
            return  # the article's own outlet ('[Baltimore 26日 ロイター]' in a Reuters article, its footer)
        row = found.get(name)
        if row is None:
            digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
            found[name] = {
                "citation_id": f"{article_id}-{digest}",
                "article_id": article_id,
                "name": name,
                "kind": kind,
                "how": how,
                "surface": surface,
                "sentence_id": sid,
                "evidence_count": 1,
            }
            return
        row["evidence_count"] += 1
        if STRENGTH[how] > STRENGTH[row["how"]]:
            row["how"] = how

    for s in sents:
        text, sid = s["text"], s["sentence_id"]
        if s["kind"] == "source_line":
            for item in _source_line_items(text, language):
                resolved = resolve_outlet(item)
                if resolved:
                    add(resolved[0], resolved[1], "source_line", item, sid)
                elif any(ch.isupper() for ch in item) and len(item.split()) <= 6:
                    add(item, "unknown", "source_line", item, sid)
            continue
        if s["kind"] == "caption":
            for hit in _credits(text, language):  # a photo credit: the article relies on the agency's picture
                add(hit.name, hit.kind, "mention", hit.surface, sid)
            continue
        if s["kind"] not in CONTENT_KINDS:
            continue
        own = sources.get(sid)
        hits = find_outlets(text)
        for hit in hits:
            how = "mention"
            if own and own.name == hit.name:
                how = "according_to" if own.attribution in ("according_to",) else "reported"
            add(hit.name, hit.kind, how, hit.surface, sid)
        if own and own.kind in ("outlet", "agency") and not any(h.name == own.name for h in hits):
            add(own.name, own.kind, "according_to" if own.attribution == "according_to" else "reported", own.name, sid)
        if sid in sources:  # the sentence has an attribution cue
            # a misspelt outlet beside a cue ("reported Finance Times"): close spellings of known names
            taken = [(h.start, h.end) for h in hits]
            for span in name_spans(text, language):
                if any(a < span.end and span.start < z for a, z in taken):
                    continue
                resolved = resolve_outlet(span.text)
                if resolved and not (own and own.name == resolved[0]):
                    add(resolved[0], resolved[1], "reported", span.text, sid)
    return list(found.values())


def own_sources(articles: pl.DataFrame, sentences: pl.DataFrame) -> dict[str, Source | None]:
    """The source each content sentence names for itself (computed once, used by citations and claims).

    A sentence with an attribution cue but no source the rules can name maps to None; a sentence
    with no cue at all is absent.
    """
    languages = dict(articles.select("article_id", "language").iter_rows())
    content = sentences.filter(pl.col("kind").is_in(CONTENT_KINDS))
    out: dict[str, Source | None] = {}
    for sid, aid, text in content.select("sentence_id", "article_id", "text").iter_rows():
        language = languages[aid]
        src = sentence_source(text, language)
        if src is not None or _has_attribution_cue(text, language):
            out[sid] = src
    return out


def extract_citations(
    articles: pl.DataFrame, sentences: pl.DataFrame, sources: dict[str, Source] | None = None
) -> pl.DataFrame:
    """One row per outlet or agency each article cites."""
    rows = []
    sources = own_sources(articles, sentences) if sources is None else sources
    by_article = sentences.partition_by("article_id", as_dict=True, maintain_order=True)
    outlets = articles["outlet"] if "outlet" in articles.columns else pl.Series([None] * articles.height)
    for (aid, language), outlet in zip(articles.select("article_id", "language").iter_rows(), outlets, strict=True):
        part = by_article.get((aid,))
        if part is not None:
            rows.extend(_article_citations(aid, language, part.sort("position").to_dicts(), sources, outlet))
    return pl.DataFrame(rows, schema=CITATION_SCHEMA).sort("article_id", "name")


# ---------------------------------------------------------------- claims


def _source_line_origin(cites: list[dict]) -> Source | None:
    """Where an article of unknown outlet says its news comes from: the first outlet its source line
    names ("Source: FT"), else the outlet it cites most with a cue ("La notizia arriva dal Financial Times")."""
    lines = sorted((c for c in cites if c["how"] == "source_line"), key=lambda c: c["sentence_id"])
    if lines:
        return Source(lines[0]["name"], lines[0]["kind"], "source_line", "")
    cued = [c for c in cites if c["how"] in ("according_to", "reported") and c["kind"] in ("outlet", "agency")]
    if not cued:
        return None
    c = max(cued, key=lambda c: (c["evidence_count"], STRENGTH[c["how"]], c["name"]))
    return Source(c["name"], c["kind"], "source_line", "")


def _long_enough(text: str, language: str) -> bool:
    if unspaced(text):  # no spaces to count words by: count letters
        return sum(ch.isalnum() for ch in text) >= setting("claims", "min_chars_unspaced")
    return len(text.split()) >= setting("claims", "min_words")


def is_checkable(text: str, language: str) -> bool:
    """A body sentence (or clause) that asserts something: long enough, not a question, not speculation."""
    if not _long_enough(text, language):
        return False
    if text.rstrip(_QUOTE_CHARS + " ").endswith(("?", "？", "؟")):
        return False
    return not find_cues(text, language, "speculation")


def clauses(text: str, language: str) -> list[tuple[int, int]]:
    """(start, end) of the statements a sentence carries: split where a contrastive connective joins two
    clauses of which at least one names its own source ("X denies the claims, but the VSSE believes ...")."""
    cuts = []
    for start, end, _ in find_cues(text, language, "contrast"):
        left, right = text[:start].rstrip(" ,;–—-"), text[end:].lstrip(" ,;:")
        if not left or not right or not (_long_enough(left, language) and _long_enough(right, language)):
            continue
        if _inside_quotation(text, start):
            continue  # a connective inside a quotation is part of what was said
        if sentence_source(left, language) or sentence_source(right, language):
            cuts.append((len(left), end + (len(text[end:]) - len(text[end:].lstrip(" ,;:")))))
    if not cuts:
        return [(0, len(text))]
    spans, begin = [], 0
    for left_end, right_start in cuts:
        if left_end > begin:
            spans.append((begin, left_end))
            begin = right_start
    spans.append((begin, len(text)))
    return spans


def _inside_quotation(text: str, pos: int) -> bool:
    """`pos` lies inside a quotation: one that opens and closes around it, or one that closes after it
    without having opened in this sentence (it opened in an earlier one)."""
    if any(q.start() < pos < q.end() for q in _QUOTED.finditer(text)):
        return True
    closes, opens = "”»」』", "“„«「『"
    later = text[pos:]
    first_close = min((later.find(c) for c in closes if c in later), default=-1)
    if first_close < 0:
        return False
    return not any(c in text[:pos] for c in opens) and not any(c in later[:first_close] for c in opens)


def _opening_cue(text: str, language: str, kind: str) -> int | None:
    """Where a `kind` cue that opens the sentence (after quotation marks at most) ends, else None:
    'continuation' goes on with the previous speaker ('He added', 'Ідеться також'); 'refers_back' points at
    the sentence before ('Про це … повідомило агентство', 'Lo ha detto …', 'C'est ce qu'a annoncé …')."""
    hits = find_cues(text[:60], language, kind)
    return hits[0][1] if hits and not text[: hits[0][0]].strip(" \"'“„«»") else None


def _closes_quotation(text: str, language: str) -> bool:
    """A quotation closes right before a reporting verb with no speaker of its own: '«…», a-t-il ajouté',
    '„…“, sagte er', '“…,” he said' (the speaker is the one who was speaking)."""
    verbs = find_cues(text, language, "reporting_verb")
    return bool(verbs) and bool(re.search(r"[”»“」』\"]\s*[,，–—-]?\s*$", text[: verbs[0][0]]))


def _passes_on(text: str, language: str) -> bool:
    """The sentence ends with a hearsay mark: it passes on what the previous source said (ja '…ということです')."""
    tail = text.rstrip(" 。．.!！」』”\"')")
    hits = find_cues(tail[-20:], language, "hearsay")
    return bool(hits) and hits[-1][1] == len(tail[-20:])


def _quotes_open(text: str, was_open: bool) -> bool:
    """Whether a quotation is still open after `text`, given whether one was open before it."""
    balance = (1 if was_open else 0) + sum(text.count(c) for c in "“„«") - sum(text.count(c) for c in "”»")
    straight = text.count('"') % 2 == 1
    return balance > 0 or (straight != was_open if straight else (was_open and balance > 0))


def _only_credits(part: str, source: Source, language: str) -> bool:
    """Beyond its source and its cue the sentence names only an outlet (or nothing): a credit line run into
    the body, not a statement ('Belgian security services reported Finance Times')."""
    if source.attribution not in ("reported", "quote") or min(source.start, source.cue_start) < 0:
        return False
    rest, pos = [], 0
    for a, z in sorted([(source.start, source.end), (source.cue_start, source.cue_end)]):
        rest.append(part[pos:a])
        pos = max(pos, z)
    rest.append(part[pos:])
    words = [w for w in re.findall(r"\w+", " ".join(rest)) if w.casefold() not in function_words(language)]
    return not words or resolve_outlet(" ".join(words)) is not None


def _claim_row(s: dict, n: int, a: int, z: int, part: str, source: Source) -> dict:
    base = s["start_char"] + a

    def shift(x):
        return base + x if x >= 0 else None

    return {
        "claim_id": f"{s['sentence_id']}-c{n}",
        "article_id": s["article_id"],
        "sentence_id": s["sentence_id"],
        "text": part,
        "language": s["language"],
        "source_name": source.name,  # NULL: own voice of an article whose outlet is unknown
        "source_kind": source.kind,
        "attribution": source.attribution,
        "cue": source.cue,
        "source_surface": source.surface or None,
        "source_start": shift(source.start) if source.attribution != "inherited" else None,
        "source_end": shift(source.end) if source.attribution != "inherited" else None,
        "cue_start": shift(source.cue_start),
        "cue_end": shift(source.cue_end),
        "start_char": base,
        "end_char": s["start_char"] + z,
    }


def _inherit(row: dict, speaker: dict) -> dict:
    """What a claim inside a quotation takes from the sentence that closes it and names the speaker."""
    return {
        "source_name": speaker["source_name"],
        "source_kind": speaker["source_kind"],
        "attribution": "quote",
        "cue": "",
        "source_surface": speaker["source_surface"],
        "source_start": None,
        "source_end": None,
        "cue_start": None,
        "cue_end": None,
    }


def extract_claims(
    articles: pl.DataFrame, sentences: pl.DataFrame, citations: pl.DataFrame, sources: dict[str, Source] | None = None
) -> pl.DataFrame:
    rows = []
    sources = own_sources(articles, sentences) if sources is None else sources
    cites_by_article = {k[0]: v.to_dicts() for k, v in citations.partition_by("article_id", as_dict=True).items()}
    meta = {
        aid: (lang, outlet) for aid, lang, outlet in articles.select("article_id", "language", "outlet").iter_rows()
    }
    body = sentences.filter(pl.col("kind") == "body").sort("article_id", "position")
    previous: dict[str, tuple[Source | None, bool]] = {}  # article -> (last speaker, quotation still open)
    quote_rows: dict[str, list[int]] = {}  # article -> rows inside a quotation that is still open
    last_rows: dict[str, range] = {}  # article -> the rows of its previous body sentence
    for s in body.iter_rows(named=True):
        aid, text = s["article_id"], s["text"]
        language, outlet = meta[aid]
        speaker, quote_open = previous.get(aid, (None, False))
        own = (
            Source(outlet, "outlet", "own_voice", "") if outlet else _source_line_origin(cites_by_article.get(aid, []))
        )
        own_names = _own_outlet_names(outlet)
        spans = clauses(text, language) if sources.get(s["sentence_id"]) is not None else [(0, len(text))]
        first_row = len(rows)
        for n, (a, z) in enumerate(spans):
            part = text[a:z]
            if not is_checkable(part, language):
                continue
            found = sentence_source(part, language) if len(spans) > 1 else sources.get(s["sentence_id"])
            # a reporting verb with no subject of its own (pro-drop: "Ha aggiunto che ...") goes on with the speaker
            cued = (
                found is None
                and s["sentence_id"] in sources
                and (not name_spans(part, language) or _closes_quotation(part, language))
            )
            continues = _opening_cue(part, language, "continuation")
            if continues is not None and found is not None and found.cue_start < continues:
                found = None  # the verb is the continuation's own: uk 'Ідеться також про …' (… is also said)
            goes_on = cued or continues is not None or _passes_on(part, language)
            if found is None and speaker is not None and n == 0 and goes_on:
                found = Source(speaker.name, speaker.kind, "inherited", "", speaker.surface)
            if found is not None and found.kind == "document":
                # a statement speaks for who issued it: the speaker so far, else the article's own voice
                found = replace(found, name=speaker.name, kind=speaker.kind) if speaker is not None else None
            if found is not None and _only_credits(part, found, language):
                continue  # 'Belgian security services reported Finance Times': who reported whom, no statement
            if found is not None and found.kind in ("outlet", "agency") and fold(found.name) in own_names:
                found = own  # the article's own outlet named in its text ('selon les images … de Sputnik')
            source = found or own or Source(None, None, "own_voice", "")
            if found is not None and found.attribution != "inherited":
                speaker = found
            rows.append(_claim_row(s, n, a, z, part, source))
        named = [r for r in rows[first_row:] if r["attribution"] in ("quote", "reported", "according_to")]
        if named and _opening_cue(text, language, "refers_back") is not None:  # its source is the one before's too
            for i in last_rows.get(aid, ()):
                if rows[i]["attribution"] == "own_voice":
                    rows[i].update(_inherit(rows[i], named[0]), attribution="inherited")
        last_rows[aid] = range(first_row, len(rows))
        still_open = _quotes_open(text, quote_open)
        opened_here = not quote_open and still_open
        if quote_open or opened_here:
            pending = quote_rows.setdefault(aid, [])
            pending.extend(range(first_row, len(rows)))
            if not still_open:  # the quotation closes here: who it is attributed to said all of it
                closing = next(
                    (
                        rows[i]
                        for i in reversed(pending)
                        if rows[i]["attribution"] in ("quote", "reported")
                        or (i == pending[-1] and rows[i]["attribution"] == "inherited")  # '…», a-t-il ajouté'
                    ),
                    None,
                )
                if closing is not None:
                    for i in pending:
                        if rows[i]["attribution"] in ("own_voice", "source_line", "inherited"):
                            rows[i].update(_inherit(rows[i], closing))
                quote_rows[aid] = []
        previous[aid] = (speaker, still_open)
    return CLAIMS.frame(rows, list(rows[0]) if rows else CLAIM_COLUMNS)
