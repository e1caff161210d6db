"""Calls that name a prompt template: ``POST /v1/prompts/{name}/completions`` with variables,
and OpenAI chat with ``prompt: {name, alias | version, variables}`` in its body.

The prompt version is resolved from memory (``prompts/live.py``), its variables checked (a 400
naming a missing, extra or invalid one), its retrieval step run, and the rendered chat goes
through the same pipeline as any chat call, which records the version (``Call.prompt``).
"""

from __future__ import annotations

import json
from typing import Any

from bastion.errors import InvalidRequest, ModelNotReady
from bastion.pipeline.call import PromptUse
from bastion.prompts import PromptService
from bastion.prompts.rendering import Rendered, prepare
from bastion.security import Principal
from bastion.services import Services

PROMPT_HEADER = "x-bastion-prompt"
VERSION_HEADER = "x-bastion-prompt-version"
CITATIONS_HEADER = "x-bastion-citations"
ROUTE_FIELDS = frozenset({"variables", "alias", "version", "stream", "stream_options"})
_CHAT_PROMPT_FIELDS = frozenset({"name", "alias", "version", "variables"})


def _prompts(svc: Services) -> PromptService:
    if svc.prompts is None:
        raise ModelNotReady("prompt templates are not enabled on this server (prompts.enabled)")
    return svc.prompts


def prompt_ref(alias: Any, version: Any, where: str) -> str:
    if alias is not None and version is not None:
        raise InvalidRequest(
            f"{where}: give 'alias' or 'version', not both", details={"field": f"{where}version"}
        )
    if version is not None:
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidRequest(
                f"{where}version: a positive integer", details={"field": f"{where}version"}
            )
        return str(version)
    if alias is None:
        return "production"
    if not isinstance(alias, str) or not alias:
        raise InvalidRequest(
            f"{where}alias: a non-empty string", details={"field": f"{where}alias"}
        )
    return alias


async def render_prompt(
    svc: Services, principal: Principal, name: Any, ref: str, variables: Any
) -> Rendered:
    """The named prompt version rendered for ``principal`` (another tenant's prompt: 404)."""
    if not isinstance(name, str) or not name:
        raise InvalidRequest(
            "prompt.name: the prompt's name is required", details={"field": "prompt.name"}
        )
    prompts = _prompts(svc)
    owner = await prompts.book.owner(name)
    svc.ownership.require_visible(principal, owner, f"prompt named '{name}'")
    version = await prompts.book.resolve(name, ref)
    alias = None if ref.removeprefix("v").isdigit() else ref
    return await prepare(
        version, variables, alias=alias, principal=principal, retriever=prompts.retriever
    )


async def chat_with_prompt(svc: Services, principal: Principal, body: dict[str, Any]) -> Rendered:
    """A chat body's ``prompt`` rendered; the body's own messages (if any) follow the
    template's, and its ``model``, if given, must be the template's model group."""
    spec = body["prompt"]
    if not isinstance(spec, dict):
        raise InvalidRequest(
            "prompt: an object {name, alias or version, variables}", details={"field": "prompt"}
        )
    extra = sorted(set(spec) - _CHAT_PROMPT_FIELDS)
    if extra:
        raise InvalidRequest(
            f"prompt.{extra[0]}: not a field of prompt (name, alias, version, variables)",
            details={"field": f"prompt.{extra[0]}"},
        )
    ref = prompt_ref(spec.get("alias"), spec.get("version"), "prompt.")
    rendered = await render_prompt(svc, principal, spec.get("name"), ref, spec.get("variables", {}))
    model = body.get("model")
    if model is not None and model != rendered.model:
        raise InvalidRequest(
            f"model: prompt {rendered.version.ref} runs on model group '{rendered.model}'; "
            "leave 'model' out or name that group",
            details={"field": "model"},
        )
    extra_messages = body.get("messages") or []
    if not isinstance(extra_messages, list):
        raise InvalidRequest("messages: a list", details={"field": "messages"})
    merged = [*rendered.messages, *extra_messages]
    untrusted = rendered.untrusted + tuple(
        m["content"]
        for m in extra_messages
        if isinstance(m, dict) and m.get("role") != "system" and isinstance(m.get("content"), str)
    )
    overrides = {k: v for k, v in body.items() if k not in ("prompt", "messages", "model")}
    return Rendered(
        rendered.version,
        rendered.alias,
        merged,
        rendered.citations,
        untrusted,
        overrides,
    )


def prompt_use(rendered: Rendered) -> PromptUse:
    return PromptUse(
        rendered.version.name,
        rendered.version.version,
        rendered.alias,
        tuple(c.to_dict() for c in rendered.citations),
        rendered.untrusted,
    )


def prompt_headers(rendered: Rendered) -> dict[str, str]:
    headers = {PROMPT_HEADER: rendered.version.name, VERSION_HEADER: str(rendered.version.version)}
    if rendered.citations:
        cited = [c.to_dict() for c in rendered.citations]
        headers[CITATIONS_HEADER] = json.dumps(cited, separators=(",", ":"), ensure_ascii=True)
    return headers


def with_prompt(output: Any, rendered: Rendered) -> Any:
    """A completion with the prompt version and its citations added (a copy)."""
    if not isinstance(output, dict):
        return output
    return {
        **output,
        "prompt": {
            "name": rendered.version.name,
            "version": rendered.version.version,
            "alias": rendered.alias,
        },
        "citations": [c.to_dict() for c in rendered.citations],
    }
