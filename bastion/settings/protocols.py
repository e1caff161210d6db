"""Settings of the wire protocols: how strictly OpenAI request bodies are taken."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bastion.settings.core import Section


class OpenAISettings(Section):
    """The OpenAI-compatible routes (see docs/http.md).

    Every documented field of a chat completions, completions or embeddings request is
    checked (type, range, shape) before anything is reserved or charged; a violation is a
    400 whose ``param`` names the field. ``unknown_fields`` decides what happens to a field
    OpenAI does not document (at the top level and in a message): ``forward`` passes it to
    the upstream (providers such as vLLM take their own, e.g. ``top_k``), ``refuse``
    answers 400 naming it.
    """

    unknown_fields: Literal["forward", "refuse"] = Field(
        "forward", description="a field OpenAI does not document: forward it, or refuse (400)"
    )
