"""Split extracted text into overlapping chunks of a fixed number of tokens.

A token here is a maximal run of non-whitespace characters (a word with its punctuation).
That is deterministic and needs no model; it undercounts a language model's sub-word
tokens by roughly a quarter for English, which is fine for sizing retrieval chunks.
"""

import re
from dataclasses import dataclass, replace

TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    token_count: int
    page: int | None = None


def split_into_chunks(text, size, overlap):
    """Chunks of `size` tokens, each starting `size - overlap` tokens after the previous one.

    A chunk's text is the original text from its first token to its last, so line breaks
    and spacing inside it are kept. Text without tokens gives no chunks.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError("Chunk size must be positive and the overlap smaller than it.")
    spans = [match.span() for match in TOKEN.finditer(text)]
    step = size - overlap
    chunks = []
    start = 0
    while start < len(spans):
        window = spans[start : start + size]
        chunks.append(
            Chunk(
                index=len(chunks),
                text=text[window[0][0] : window[-1][1]],
                token_count=len(window),
            )
        )
        if start + size >= len(spans):
            break
        start += step
    return chunks


def split_pages_into_chunks(pages, size, overlap):
    """Each page (knowledge/extraction.py) split on its own, so a chunk names the one page it
    comes from; indices run on across pages."""
    chunks = []
    for page in pages:
        for chunk in split_into_chunks(page.text, size, overlap):
            chunks.append(replace(chunk, index=len(chunks), page=page.number))
    return chunks
