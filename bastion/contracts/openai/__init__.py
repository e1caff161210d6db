"""OpenAI request validation: each documented field's type, range and shape."""

from bastion.contracts.openai.requests import Kind, OpenAIRequestCheck, UnknownFields

__all__ = ["Kind", "OpenAIRequestCheck", "UnknownFields"]
