"""Cleaning text copied from listing pages for display, and finding links in abstracts.

Abstracts on Daily Papers pages are often the arXiv LaTeX source with the markup half
stripped: ``\\%``, ````quoted''``, ``Fr\\'echet``, ``\\eg``, ``M$^3$ViT``, ``\\ours``,
colour macros that lost their backslash (``teal{Tool-use}``).  Display text is cleaned;
the raw text is kept on the paper so nothing is lost.
"""

from __future__ import annotations

import functools
import re
import unicodedata

_ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304", ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b"}
_ACCENT_RE = re.compile(r"\{?\\(['`^\"~=.]|[cvuH](?=[\s{]))\s*\{?([A-Za-z])\}?\}?")
_ABBREVIATIONS = {"eg": "e.g.", "ie": "i.e.", "etal": "et al.", "etc": "etc.", "wrt": "w.r.t.", "vs": "vs.", "cf": "cf."}
_ABBREV_RE = re.compile(r"\\(" + "|".join(_ABBREVIATIONS) + r")\b\.?(\{\})?")
_SELF_MACROS = re.compile(r"\\(ours|model|method|name|system|approach|our|ourmethod|modelname|methodname)\b(\{\})?")
_COLOURS = "red|green|blue|teal|orange|purple|magenta|cyan|gray|grey|violet|brown|olive|pink|lime|darkgreen|darkblue"
_COLOUR_RE = re.compile(r"(?:\\textcolor\{[a-z]+\}|\\color\{[a-z]+\}|\\?\b(?:" + _COLOURS + r"))\{([^{}]*)\}")
_TEXT_MACRO_RE = re.compile(r"\\(?:textbf|textit|emph|texttt|textsc|mathrm|mathbf|mathit|text|underline|textsf)\{([^{}]*)\}")
_ESCAPED = re.compile(r"\\([%&#_$])")
_SUPER = str.maketrans("0123456789+-=()n", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ")
_SUB = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
_MATH_SYMBOLS = {
    "times": "×", "cdot": "·", "sim": "~", "approx": "≈", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥",
    "neq": "≠", "pm": "±", "infty": "∞", "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "lambda": "λ", "mu": "μ",
    "pi": "π", "sigma": "σ", "theta": "θ", "tau": "τ", "phi": "φ", "ell": "ℓ", "%": "%",
}
# Inline math is written tight ("$x^2$"); "$5 and $10" is money, not math.
_MATH_RE = re.compile(r"\$(?![\s\d]*\s)([^$\s](?:[^$]{0,78}[^$\s])?)\$(?!\d)")
_SCRIPT_RE = re.compile(r"([\^_])(\{[^{}]*\}|[0-9A-Za-z+\-])")
_SYMBOL_RE = re.compile(r"\\([A-Za-z]+|%)")
_BARE_ARROW = re.compile(r"(?<=\s)rightarrow(?=\s)")
# Control characters and bidirectional overrides: invisible, and able to reorder what a
# reader sees.  Zero-width joiners stay (emoji and some scripts need them).
# A group left after a macro lost its name: "Wukong{ViT-B}" was a subscript.
_LEFTOVER_GROUP = re.compile(r"(\w)\{([^{}\\]+)\}")
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\ufeff]")

URL_RE = re.compile(r"~?(https?://[^\s<>\"'`{}|\\^]+)")
_URL_TRAIL = ".,;:!?)]}'\"*"


# Every LaTeX leftover that clean_text resolves holds one of these (a colour group such as
# "teal{" holds "{"); plain substring tests are much cheaper than one regular expression.
_LATEX_MARKS = ("\\", "$", "`", "{", "''", "rightarrow")


def strip_invisible(text: str) -> str:
    """NFC-normalised *text* without control characters, bidi overrides or zero-width spaces."""
    if text.isascii() and text.isprintable():  # most text: NFC leaves it, nothing to remove
        return text
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", text))


@functools.lru_cache(maxsize=1 << 16)
def clean_text(text: str, name: str | None = None) -> str:
    """Display text for a raw title or abstract: LaTeX leftovers resolved, whitespace folded.

    *name* is the paper's short name (from the title, e.g. ``ScaLearn``); macros such as
    ``\\ours`` that stood for it are replaced by it, or by "our method" when unknown.
    """
    text = strip_invisible(text)
    if not any(mark in text for mark in _LATEX_MARKS):
        # Most abstracts hold no LaTeX at all: skip the dozen substitutions below.
        return fold_spaces(text)
    text = _ESCAPED.sub(r"\1", text)
    text = text.replace("``", "“").replace("''", "”")
    text = re.sub(r"(?<![\w`])`(?=\w)([^`']*)'(?!\w)", r"‘\1’", text)
    text = _ACCENT_RE.sub(_accent, text)
    text = _ABBREV_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)
    text = _SELF_MACROS.sub(name or "our method", text)
    for _ in range(2):  # nested once at most in practice: \textbf{\emph{x}}
        text = _COLOUR_RE.sub(r"\1", text)
        text = _TEXT_MACRO_RE.sub(r"\1", text)
    text = _MATH_RE.sub(lambda m: _math(m.group(1)), text)
    text = _BARE_ARROW.sub("→", text)
    text = _LEFTOVER_GROUP.sub(r"\1 (\2)", text)
    return " ".join(text.split())


def fold_spaces(text: str) -> str:
    """*text* with each run of white space made one space and none at either end.

    Most text already is: in printable ASCII the only white space is " ", so without a
    double, leading or trailing one there is nothing to do, which is cheaper to see than
    to split and join the text."""
    if text.isascii() and text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _accent(m: re.Match[str]) -> str:
    return unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)])


def _math(expr: str) -> str:
    def script(m: re.Match[str]) -> str:
        body = m.group(2).strip("{}")
        table = _SUPER if m.group(1) == "^" else _SUB
        # Only when every character has a Unicode super/subscript; otherwise keep it readable.
        if all(ord(c) in table for c in body):
            return body.translate(table)
        return ("^" if m.group(1) == "^" else "_") + body

    expr = _SYMBOL_RE.sub(lambda m: _MATH_SYMBOLS.get(m.group(1), m.group(1)), expr)
    expr = _SCRIPT_RE.sub(script, expr)
    return expr.replace("{", "").replace("}", "").strip()


def short_name(title: str) -> str | None:
    """The system name a title introduces (``ScaLearn`` in ``ScaLearn: Simple and ...``), if any."""
    head, sep, _ = title.partition(":")
    head = head.strip()
    if sep and head and len(head.split()) <= 3 and len(head) <= 40:
        return head
    return None


def find_urls(text: str) -> list[str]:
    """The http(s) URLs in *text*, in order, without duplicates, trailing punctuation or a leading ``~``."""
    out: list[str] = []
    # Every match holds "://" at most 6 characters from its start: nothing before can match.
    first = text.find("://")
    if first < 0:
        return out
    for m in URL_RE.finditer(text, max(0, first - 6)):
        url = m.group(1)
        while url and url[-1] in _URL_TRAIL:
            # A closing bracket that belongs to the URL (balanced inside it) stays.
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if url.endswith(".git"):
            url = url[: -len(".git")]
        if "://" in url and url.split("://", 1)[1] and url not in out:
            out.append(url)
    return out


def classify_url(url: str) -> str:
    """``code`` for repository hosts, ``data``/``model`` for Hugging Face, else ``project``."""
    host = url.split("://", 1)[1].split("/", 1)[0].lower()
    if host in {"github.com", "gitlab.com", "bitbucket.org", "anonymous.4open.science", "codeberg.org"}:
        return "code"
    if host.endswith("huggingface.co"):
        return "code"
    return "project"


_SENTENCE_END = re.compile(r"(?<=[a-z0-9\)\]%][.!?])\s+(?=[A-Z\u201c\"(])")
_ABBREVIATION_BEFORE = re.compile(r"\b(?:e\.g|i\.e|et al|etc|vs|cf|Fig|Eq|Sec|approx|resp|No)\.$", re.IGNORECASE)
_ABBREVIATION_REACH = len("approx.")


def first_sentence(text: str, limit: int = 240) -> str:
    """The first sentence of an abstract, for one-line summaries; cut at *limit* characters."""
    sentence = text
    for m in _SENTENCE_END.finditer(text):
        # "e.g. ImageNet" or "et al. Their" do not end a sentence.
        # The longest abbreviation is "approx.": only the characters just before can hold one.
        if not _ABBREVIATION_BEFORE.search(text, max(0, m.start() - _ABBREVIATION_REACH), m.start()):
            sentence = text[: m.start()]
            break
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    return sentence
