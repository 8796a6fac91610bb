"""Chinese script handling: Simplified -> zh-TW conversion, Simplified detection, language.

Everything here is a pure function of its input and never raises, whatever the input
(NUL, control characters, lone surrogates, emoji sequences, CJK Extension B, "").
OpenCC is imported lazily inside a cached factory, so importing this module is cheap.

Design of `to_taiwan` (why it is not just ``OpenCC("s2twp").convert``):

* OpenCC's ``s2twp`` applies Taiwan *phrase* rewrites even to text that is already
  Traditional, and some of them corrupt this domain's vocabulary (參數 -> 引數,
  文件 -> 檔案, 屏蔽 -> 遮蔽). Even plain ``s2tw`` rewrites correct zh-TW text
  (干擾 -> 幹擾, 台灣 -> 臺灣, 雇用 -> 僱用, 鄰里 -> 鄰裡).
* So the text is cut into *segments*: maximal runs of non-boundary characters, where a
  boundary is white space, a control/format character, or punctuation (ASCII, CJK or
  full-width). A run longer than `MAX_SEGMENT` characters is cut every `MAX_SEGMENT`
  characters from its start. Boundaries are copied through untouched.
* A segment that contains a Simplified character (the eval's rule, see
  `simplified_chars`) gets ``s2twp`` phrase conversion, with the domain terms swapped
  for private-use placeholders first and restored afterwards. A script-neutral segment
  (信息, 程序, 干部: every character is valid in both scripts) gets the same treatment
  when the last segment that was not neutral was Simplified. Any other segment is already Traditional
  and is left as it is, apart from a short table of Simplified words spelt only with
  characters that are also Traditional (干部 -> 幹部, 那里 -> 那裡), which never occur
  in correct zh-TW text.
* A segment's conversion depends only on the segment and on that one bit of context
  carried left to right, and a segment's ends depend only on nearby characters, so
  `StreamConverter` can hold back the current, unfinished segment and reproduce
  `to_taiwan` exactly for any chunking.
* Known special cases on top of OpenCC: 台 stays 台 (s2twp writes 臺), and characters
  s2twp leaves Simplified (幺 -> 么) are converted once more with s2tw.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Literal

__all__ = [
    "AMBIGUOUS_TRADITIONAL",
    "MAX_SEGMENT",
    "StreamConverter",
    "detect_language",
    "is_mostly_chinese",
    "is_traditional_only",
    "simplified_chars",
    "to_taiwan",
    "to_traditional_query",
]

AMBIGUOUS_TRADITIONAL = frozenset("台岩雇占游里干回")
"""Traditional characters that OpenCC ``s2tw`` rewrites anyway; never counted as Simplified."""

MAX_SEGMENT = 32
"""Longest run converted as one unit; bounds what `StreamConverter` holds back."""

# White space, C0/C1 controls, zero-width and bidi format characters, ASCII punctuation
# and symbols, general punctuation, CJK symbols and punctuation (but not the ideographic
# 々〆〇), CJK compatibility forms and full-width punctuation. Letters, digits and
# ideographs are not boundaries: OpenCC has phrases such as "U盘".
_BOUNDARY_CLASS = (
    r"\s\x00-\x1f\x7f-\x9f"
    r"!-/:-@\[-`{-~"
    r"\u00a0-\u00bf\u00d7\u00f7"
    r"\u2000-\u206f\u2190-\u21ff\u2500-\u27bf\u2e00-\u2e7f"
    r"\u3000-\u3004\u3008-\u3020\u3030\u303d\u30fb"
    r"\ufe10-\ufe1f\ufe30-\ufe6f\ufeff"
    r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    r"\ufff0-\uffff"
)
_BOUNDARY = re.compile(f"[{_BOUNDARY_CLASS}]")
_SEGMENT_OR_BOUNDARY = re.compile(f"[{_BOUNDARY_CLASS}]+|[^{_BOUNDARY_CLASS}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
# CJK radicals .. Yi, compatibility ideographs, the supplementary ideographic planes.
_CJK_ANY = re.compile("[\u2e80-\ua4cf\uf900-\ufaff\U00020000-\U0003ffff]")
_HAN = re.compile("[\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_']*")

# Domain terms that s2twp's Taiwan phrase table would corrupt, mapped to the zh-TW text
# they must come out as. Each pattern is matched on the original segment.
_PROTECTED_TERMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("[参參][数數]"), "參數"),  # s2twp: 引數 (a function's arguments)
    (re.compile("文件(?![夹夾])"), "文件"),  # s2twp: 檔案; 文件夹 -> 資料夾 is kept
    (re.compile("屏蔽"), "屏蔽"),  # s2twp: 遮蔽
)

# Simplified words written only with characters that are also Traditional, so a segment
# holding them looks Traditional. None of them is correct zh-TW, so rewriting them
# cannot change zh-TW text.
_AMBIGUOUS_WORDS = {
    "干部": "幹部",
    "能干": "能幹",
    "干活": "幹活",
    "干嘛": "幹嘛",
    "干杯": "乾杯",
    "干燥": "乾燥",
    "那里": "那裡",
    "哪里": "哪裡",
    "這里": "這裡",
}
_AMBIGUOUS_PATTERN = re.compile("|".join(map(re.escape, _AMBIGUOUS_WORDS)))

# Placeholders come from the BMP private-use area; one not present in the segment is
# chosen, so they cannot collide with real text.
_PRIVATE_USE = range(0xE000, 0xF900)

# OpenCC's own output is not always a fixed point (s2twp: 幺 -> 么, and s2tw turns 么
# into 麼), so characters still Simplified after s2twp are converted again, one by one.
_MAX_PASSES = 3


@cache
def _converter(config: str) -> Callable[[str], str]:
    """Return the cached ``convert`` method of an OpenCC converter for `config`."""
    try:
        import opencc
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("assistant.chinese needs OpenCC: install it with `pip install opencc`") from error
    converter = opencc.OpenCC(config)
    convert: Callable[[str], str] = converter.convert
    return convert


def _sanitise(text: str) -> str:
    """Replace lone surrogates (which OpenCC cannot encode) with U+FFFD."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return _SURROGATE.sub("\ufffd", text)


def _split_run(run: str) -> list[str]:
    return [run[i : i + MAX_SEGMENT] for i in range(0, len(run), MAX_SEGMENT)]


def _segments(text: str) -> list[str]:
    """Cut sanitised text into boundary runs and segments of at most MAX_SEGMENT chars."""
    pieces: list[str] = []
    for match in _SEGMENT_OR_BOUNDARY.finditer(text):
        piece = match.group()
        if len(piece) > MAX_SEGMENT and not _BOUNDARY.match(piece):
            pieces.extend(_split_run(piece))
        else:
            pieces.append(piece)
    return pieces


def _simplified_in_segment(segment: str) -> list[str]:
    """The eval's rule on one segment with no NUL and no surrogate."""
    if not _CJK_ANY.search(segment):
        return []
    converted = _converter("s2tw")(segment)
    if len(converted) == len(segment):
        pairs = zip(segment, converted, strict=True)
    else:  # a phrase changed length: fall back to one character at a time
        pairs = ((char, _converter("s2tw")(char)) for char in segment)
    return [original for original, new in pairs if original != new and original not in AMBIGUOUS_TRADITIONAL]


def _phrase_convert(segment: str) -> str:
    """s2twp on a Simplified segment, with the domain terms kept out of its reach."""
    placeholders: dict[str, str] = {}
    present = set(segment)
    free = (chr(code) for code in _PRIVATE_USE if chr(code) not in present)
    protected = segment
    for pattern, replacement in _PROTECTED_TERMS:
        if pattern.search(protected):
            placeholder = next(free)
            placeholders[placeholder] = replacement
            protected = pattern.sub(placeholder, protected)
    converted = _converter("s2twp")(protected)
    for placeholder, replacement in placeholders.items():
        converted = converted.replace(placeholder, replacement)
    return converted


def _has_traditional_only(segment: str) -> bool:
    """True when the segment holds a character that exists only in Traditional script."""
    return _converter("t2s")(segment) != segment


def _convert_segment(segment: str, simplified_context: bool) -> tuple[str, bool]:
    """Convert one segment; return it and the context for the next segment.

    A segment with a Simplified character is converted and makes the context
    Simplified; one with a Traditional-only character is kept and makes it Traditional;
    a script-neutral one (信息, 程序, 干部) follows the context it is in.
    """
    if _BOUNDARY.match(segment) or not _CJK_ANY.search(segment):
        return segment, simplified_context
    if _simplified_in_segment(segment):
        simplified_context = True
    elif simplified_context and not _has_traditional_only(segment):
        pass  # a neutral word inside Simplified text: convert it too
    else:
        kept = _AMBIGUOUS_PATTERN.sub(lambda m: _AMBIGUOUS_WORDS[m.group()], segment)
        return kept, False
    converted = _phrase_convert(segment)
    for _ in range(_MAX_PASSES):
        leftovers = set(_simplified_in_segment(converted))
        if not leftovers:
            break
        # Only the leftover characters: s2twp again would rewrite zh-TW (干擾 -> 幹擾).
        converted = "".join(_converter("s2tw")(char) if char in leftovers else char for char in converted)
    if "台" in segment and "臺" not in segment:
        # s2twp writes 台 as 臺 (台湾 -> 臺灣); Taiwan and the knowledge base write 台.
        converted = converted.replace("臺", "台")
    return converted, simplified_context


def _convert(text: str, simplified_context: bool) -> tuple[str, bool]:
    """Convert sanitised text segment by segment, threading the script context."""
    if not _CJK_ANY.search(text):
        return text, simplified_context
    out: list[str] = []
    for segment in _segments(text):
        converted, simplified_context = _convert_segment(segment, simplified_context)
        out.append(converted)
    return "".join(out), simplified_context


def to_taiwan(text: str) -> str:
    """Convert Simplified or mixed Chinese to zh-TW with Taiwan phrasing.

    Segments holding a Simplified character get OpenCC ``s2twp`` (数据 -> 資料,
    网络 -> 網路, 软件 -> 軟體, 信息 -> 資訊, 内存 -> 記憶體, 程序 -> 程式, 视频 -> 影片)
    while 參數, 文件 and 屏蔽 are protected; already-Traditional text is returned as is.

    Args:
        text: any string; lone surrogates become U+FFFD.

    Returns:
        The zh-TW text. ``to_taiwan(to_taiwan(x)) == to_taiwan(x)``.
    """
    return _convert(_sanitise(text), False)[0]


class StreamConverter:
    """Incremental `to_taiwan` for token streams.

    ``"".join(feed(c) for c in chunks) + flush()`` equals ``to_taiwan("".join(chunks))``
    for every chunking. It holds back only the unfinished segment after the last
    boundary (at most `MAX_SEGMENT` - 1 characters), so a phrase is never split.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._simplified_context = False

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the converted text that is now final."""
        pending = self._pending + _sanitise(chunk)
        cut = len(pending)
        while cut > 0 and not _BOUNDARY.match(pending, cut - 1):
            cut -= 1
        # The unfinished run starts at `cut`; whole MAX_SEGMENT pieces of it are final.
        cut += (len(pending) - cut) // MAX_SEGMENT * MAX_SEGMENT
        self._pending = pending[cut:]
        if not cut:
            return ""
        converted, self._simplified_context = _convert(pending[:cut], self._simplified_context)
        return converted

    def flush(self) -> str:
        """Return the converted held-back text and reset for a new stream."""
        converted, _ = _convert(self._pending, self._simplified_context)
        self._pending, self._simplified_context = "", False
        return converted


def simplified_chars(text: str) -> list[str]:
    """Characters the eval counts as Simplified, in order of appearance (repeats kept).

    The rule: OpenCC ``s2tw`` changes the character, and it is not one of the
    Traditional characters ``s2tw`` also rewrites (台 岩 雇 占 游 里 干 回).
    Punctuation, white space and other script-neutral runs are never counted.
    """
    clean = _sanitise(text)
    found: list[str] = []
    for segment in _segments(clean):
        if not _BOUNDARY.match(segment):
            found.extend(_simplified_in_segment(segment))
    return found


def is_traditional_only(text: str) -> bool:
    """True when `text` holds no Simplified character by the eval's rule."""
    return not simplified_chars(text)


def to_traditional_query(text: str) -> str:
    """Normalise a search query to Traditional characters, cheaply.

    Segments holding a Simplified character are converted character by character with
    OpenCC ``s2tw`` (never ``s2t``, which turns 群 into 羣; no Taiwan phrase rewrites,
    so 参数 becomes 參數 and not 引數); an input 台 stays 台, the form the knowledge base
    uses. Already-Traditional text is returned unchanged.
    """
    clean = _sanitise(text)
    if not _CJK_ANY.search(clean):
        return clean
    out: list[str] = []
    simplified_somewhere = any(_converter("s2tw")(char) != char and char not in AMBIGUOUS_TRADITIONAL
                               for char in set(clean) if _CJK_ANY.match(char))
    for segment in _segments(clean):
        if _BOUNDARY.match(segment) or not _simplified_in_segment(segment):
            out.append(segment)
            continue
        if not simplified_somewhere:
            # Every character is Traditional on its own: OpenCC's phrase table would still turn
            # 「是不是只剩」 into 「是不是隻剩」, which no vocabulary phrase matches. Keep it as typed.
            out.append(segment)
            continue
        converted = _converter("s2tw")(segment)
        if len(converted) == len(segment):
            # 台 stays 台 (the knowledge base's form); 个 is always 個 (OpenCC's 「一个中」 → 「一箇中」).
            converted = "".join(
                "台" if original == "台" else "個" if original == "个" else new
                for original, new in zip(segment, converted, strict=True)
            )
        out.append(converted)
    return "".join(out)


_SHORTCODE = re.compile(r":[a-z0-9_+\-]{2,30}:")  # emoji shortcodes such as :rocket:
_ACRONYM = re.compile(r"[A-Z]{2,5}s?")  # RTX, GPU, LLM, MIT, GPUs


def detect_language(text: str) -> Literal["zh-TW", "en"]:
    """Guess the answer language for a question: ``"zh-TW"`` or ``"en"``.

    Rule: count Han characters and English words (a word is a run of letters, digits and
    ``. - _ '`` holding at least two letters, so "Qwen2.5-72B" is one word and "70B"
    none). Words that name things rather than carry the sentence do not count: those with
    a digit ("Qwen3", "4090") and short all-capital acronyms ("RTX", "MIT"); neither do
    emoji, symbols or emoji shortcodes (":rocket:"), so an emoji-heavy Chinese question
    stays Chinese. The question is zh-TW when it has Han characters and they number at
    least 1.5 times the English words. So "Phi 4 是谁做的？" is zh-TW, while
    "What is Qwen 通義?" and "Which models have an MIT licence?" are en.
    The whole text is scanned (it is linear), so pass the whole question.
    """
    clean = _SHORTCODE.sub(" ", _sanitise(text))
    han = len(_HAN.findall(clean))
    if han == 0:
        return "en"
    latin_words = sum(
        1
        for word in _LATIN_WORD.findall(clean)
        if sum(char.isascii() and char.isalpha() for char in word) >= 2
        and not any(char.isdigit() for char in word)
        and not _ACRONYM.fullmatch(word)
    )
    return "zh-TW" if han >= 1.5 * latin_words else "en"


def is_mostly_chinese(text: str) -> bool:
    """True when `detect_language` says zh-TW."""
    return detect_language(text) == "zh-TW"
