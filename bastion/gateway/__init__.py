"""The LLM gateway: model groups of OpenAI-compatible upstreams with balancing, retries,
circuit breakers, fallback chains and streams that never pass a truncated answer off as done."""

from bastion.gateway.group import ModelGroup
from bastion.gateway.service import Gateway
from bastion.gateway.target import LlmTarget

__all__ = ["Gateway", "LlmTarget", "ModelGroup"]
