"""The language tags the characters' validate_language takes, as one regular expression for
the OpenAPI schema: generated clients and fuzzers build values from it, so every tag it
allows must be one the server takes. (It names no app: langcodes is the shared registry.)

It spells out the common BCP 47 form, `language[-Script][-REGION]`, from the registry the
validator uses (langcodes): every valid two- and three-letter language (`en`, `yue`), script
(`Hant`) and region (`TW`, `419`), so `zh-Hant-TW` matches and `qq` does not. Longer tags
(variants, extensions) are accepted by the server too but not described.
"""

import itertools
import string
from collections import defaultdict
from functools import cache

import langcodes
from langcodes.data_dicts import ALL_SCRIPTS


def char_class(chars):
    """ "a" for one character, "[a-cx]" for several (runs of three or more as ranges)."""
    chars = sorted(chars)
    if len(chars) == 1:
        return chars[0]
    runs, start, prev = [], chars[0], chars[0]
    for char in [*chars[1:], None]:
        if char is not None and ord(char) == ord(prev) + 1:
            prev = char
            continue
        length = ord(prev) - ord(start)
        runs.append(start if length == 0 else start + prev if length == 1 else f"{start}-{prev}")
        start = prev = char
    return "[" + "".join(runs) + "]"


def alternation(words):
    """A compact regular expression matching exactly `words` (a trie whose branches with the
    same tail share a character class): thousands of codes in a few kilobytes."""
    words = set(words)
    optional = "" in words
    words.discard("")
    if not words:
        return ""
    tails = defaultdict(set)
    for word in words:
        tails[word[0]].add(word[1:])
    firsts = defaultdict(list)
    for first, rest in tails.items():
        firsts[alternation(rest)].append(first)
    branches = sorted(char_class(chars) + tail for tail, chars in firsts.items())
    if len(branches) == 1 and not optional:
        return branches[0]
    return "(" + "|".join(branches) + ")" + ("?" if optional else "")


def _letters(length):
    return (
        "".join(letters) for letters in itertools.product(string.ascii_lowercase, repeat=length)
    )


@cache
def language_tag_pattern():
    languages = [
        code for length in (2, 3) for code in _letters(length) if langcodes.tag_is_valid(code)
    ]
    scripts = [code for code in ALL_SCRIPTS if langcodes.tag_is_valid(f"und-{code}")]
    regions = [
        code
        for code in [
            *(letters.upper() for letters in _letters(2)),
            *map("{:03d}".format, range(1000)),
        ]
        if langcodes.tag_is_valid(f"und-{code}")
    ]
    return f"^{alternation(languages)}(-{alternation(scripts)})?(-{alternation(regions)})?$"
