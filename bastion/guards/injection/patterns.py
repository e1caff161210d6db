"""The rule patterns of the injection screen, as (category, language, regex): English, markup."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bastion.guards.injection.patterns_intl import OTHER_LANGUAGES

_G = r"[^.!?\n]{0,30}?"  # a short gap inside one sentence
_AI = (
    r"(?:ai|a\.i\.|llm|assistant|chatbot|bot|model|gpt|chatgpt|claude|copilot|gemini|agent|"
    r"language model|ia|i\.a\.|ki|assistente|assistenten|modèle|modelo|modello|agente)"
)

# "developer mode on my Android phone" is a device setting, not a jailbreak persona.
_ON_A_DEVICE = (
    r"(?!\s+(?:on|in|for|of)\s+(?:(?:my|the|a|an|your|our)\s+)?(?:\w+\s+)?(?:android|iphone|"
    r"ipad|ios|phone|chrome|chromebook|browser|windows|mac|macbook|device|tablet|kindle|tv|"
    r"router|xbox|playstation|console|car|laptop|pc|pixel|samsung|galaxy|firefox|edge|app)\b)"
)

# Category weights: the probability-like contribution of one match (noisy-or combined).
WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "override": 0.9,
        "override_loose": 0.4,
        "forget_all": 0.7,
        "new_instructions": 0.35,
        "role": 0.6,
        "pretend": 0.25,
        "act_as": 0.15,
        "grandma": 0.7,
        "jailbreak": 0.8,
        "jailbreak_word": 0.35,
        "mode": 0.3,
        "mode_on": 0.55,
        "instead": 0.45,
        "void": 0.85,
        "ai_must": 0.5,
        "no_limits": 0.45,
        "safety_off": 0.8,
        "leak": 0.8,
        "leak_question": 0.5,
        "leak_your": 0.6,
        "system_prompt": 0.25,
        "chat_template": 0.85,
        "fake_header": 0.6,
        "exfiltration": 0.8,
        "exfil_url": 0.6,
        "hidden_note": 0.8,
        "hidden_comment": 0.7,
        "conditional_ai": 0.75,
        "conceal": 0.7,
        "precedence": 0.8,
        "obey": 0.45,
    }
)

_ENGLISH_AND_MARKUP: tuple[tuple[str, str, str], ...] = (
    # --- English ---
    ("override", "en",
     r"\b(?:ignore|disregard|forget|skip|override|bypass|discard|abandon|neglect|set aside|"
     r"do not follow|don't follow|stop following|throw out)\b(?!\s+(?:my|our)\b)" + _G +
     r"\b(?:previous|prior|preceding|above|earlier|former|original|initial|old|existing|"
     r"foregoing|system|developer|safety|your|all)\b[^.!?\n]{0,20}?\b(?:instructions?|"
     r"directions|directives|rules|prompts?|guidelines|guardrails|commands|constraints|"
     r"programming|polic(?:y|ies)|restrictions|orders|training)\b"
     r"|\b(?:ignore|disregard|forget|do not follow|don't follow|stop following)\b" + _G +
     r"\b(?:instructions|rules|directives|guidelines)\b[^.!?\n]{0,25}?\b(?:before|earlier|"
     r"previously|originally|initially|at the start)\b"),
    ("void", "en",
     r"\b(?:previous|prior|earlier|original|above|all|your|old)\s+(?:instructions|rules|"
     r"directives|guidelines|prompts?)\s+(?:are|were|is|have been)\s+(?:now\s+)?(?:void|"
     r"cancel+ed|revoked|obsolete|invalid|null|a test|no longer (?:valid|apply|in effect)|"
     r"suspended|lifted|disabled|overridden|replaced|never given|never (?:sent|written))"),
    ("instead", "en",
     r"\b(?:ignore|disregard|forget|skip|stop)\b[^.!?\n]{0,40}?(?:\band|[.;,:])\s*instead\b"),
    ("override_loose", "en",
     r"\b(?:ignore|disregard|forget|override|bypass)\b" + _G +
     r"\b(?:instructions?|rules|guidelines|directives|prompt)\b"),
    ("forget_all", "en",
     r"\b(?:forget|disregard|ignore) (?:everything|all(?: of)? (?:that|this|the above))\b"
     r"|\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+|what(?:'s|"
     r" is| was)\s+)?(?:above|preceding|foregoing)\b(?!\s+(?:paragraph|section|line|sentence|"
     r"example|table|figure|code|email|message|link|list))"
     r"|\bstart (?:over|fresh) (?:with(?:out)?|and ignore) (?:no |any )?(?:rules|instructions)"),
    ("new_instructions", "en",
     r"\b(?:new|updated|real|actual|true|revised|override) (?:instructions|directives|orders|"
     r"task|role|objective|rules?|policy)\s*(?::|are\b|is\b)"),
    ("role", "en",
     r"\byou are (?:now|no longer|from now on)\b|\bfrom now on,? (?:you|your|act|pretend)\b"
     r"|\byou will (?:now )?(?:act|behave|respond) as\b|\bstay in character\b"),
    ("pretend", "en",
     r"\b(?:pretend|imagine) (?:to be|you are|that you are|you're)\b|\b(?:roleplay|role-play|"
     r"role play) as\b"),
    ("grandma", "any",
     r"\b(?:act as|pretend to be|be|roleplay as|play)\s+(?:my\s+)?(?:dead|deceased|late)\s+"
     r"(?:grand(?:ma|mother|pa|father)|granny|nan)\b|\bgrand(?:ma|mother|pa|father) (?:who )?"
     r"used to (?:tell|read|whisper|recite)\b"),
    ("act_as", "en", r"\bact as\b"),
    ("jailbreak", "en",
     r"\b(?:jailbroken|do anything now|evil confidant|anti-?gpt|betterdan)\b"
     r"|(?:\b(?:you are|you're|as|be|called|named)\s+(?:now\s+)?)(?-i:(?:DAN|STAN|DUDE)\b)"
     r"|(?-i:\b(?:DAN|STAN|DUDE)) mode\b"),
    ("jailbreak_word", "en", r"\bjailbreak(?:s|ing)?\b|(?-i:\b(?:DAN|STAN|DUDE)\b)"),
    ("mode", "en",
     r"\b(?:developer|dev|god|sudo|jailbreak|unrestricted|unfiltered|uncensored|evil|chaos)"
     r" mode\b" + _ON_A_DEVICE),
    ("mode_on", "en",
     r"\b(?:enable|activate|enter|switch (?:in)?to|you are (?:now )?in|turn on|go into)\s+"
     r"(?:the\s+)?(?:developer|dev|god|sudo|jailbreak|unrestricted|unfiltered|uncensored|evil|"
     r"chaos|DAN) mode\b" + _ON_A_DEVICE),
    ("no_limits", "en",
     r"\b(?:unfiltered|uncensored|unrestricted|unaligned)\b|\b(?:no|without any|without|free "
     r"(?:of|from)|not bound by|unbound by)\s+(?:ethical|moral|content)?\s*(?:restrictions|"
     r"filters|censorship|limitations|guidelines|guardrails|rules|boundaries|principles|content "
     r"polic(?:y|ies))\b|\bbroken free\b|\bfree (?:from|of) (?:the )?(?:typical )?(?:confines|"
     r"constraints)"),
    ("safety_off", "en",
     r"\b(?:disable|turn off|deactivate|bypass|remove|circumvent|ignore|override|switch off)\b"
     r"[^.!?\n]{0,20}\b(?:safety|content|ethical|moral|security)\s+(?:filters?|guidelines|"
     r"guardrails|polic(?:y|ies)|restrictions|settings|protocols|checks|measures)\b"),
    ("leak", "en",
     r"\b(?:reveal|show|print|display|output|repeat|tell|give|share|leak|dump|expose|disclose|"
     r"recite|write out|spell out|list|paste)\b[^.!?\n]{0,25}\b(?:your|the|all)\b[^.!?\n]{0,15}"
     r"\b(?:system|initial|hidden|original|secret|internal|confidential|developer|pre-?prompt|"
     r"first|full)\s+(?:prompt|instructions|message|directives|rules|configuration|guidelines)"
     r"|\b(?:repeat|print|output|echo) (?:back )?(?:the |all )?(?:text|words|everything|"
     r"instructions) (?:above|before|preceding)\b"
     r"|\b(?:instructions|rules|prompt|directives|guidelines)\s+(?:that\s+)?(?:you\s+(?:received|"
     r"were given|got|have been given)|given to you)\b|\b(?:content|contents|text|wording) of your "
     r"(?:instructions|prompt|system)|\bpre-?prompt\b|\b(?:text|everything|words) (?:that "
     r"(?:appears|comes) )?(?:before|above|preceding) (?:this|my first|the first|['\"]?user)"),
    ("leak_your", "en",
     r"\byour (?:system|initial|original|hidden|secret|internal) (?:prompt|message|instructions)"),
    ("leak_question", "en",
     r"\bwhat (?:is|are|were) (?:your|the) (?:system |initial |original |hidden |secret )"
     r"?(?:prompt|instructions)\b|\bhow (?:were|are) you (?:instructed|prompted|programmed)\b"
     r"|\b(?:told|instructed|programmed|asked) (?:to )?(?:never|not to) (?:to )?(?:reveal|share|"
     r"tell|disclose|mention)"),
    ("system_prompt", "en", r"\bsystem (?:prompt|message)\b"),
    # --- language-neutral markup ---
    ("chat_template", "any",
     r"<\|(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|user|"
     r"assistant|begin_of_text)\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>"
     r"|\b(?:BEGIN|END)[ _](?:SYSTEM|ADMIN|DEVELOPER)[ _](?:PROMPT|MESSAGE|INSTRUCTIONS?|"
     r"OVERRIDE)\b"),
    ("fake_header", "any",
     r"(?:^|\n|\s)#{2,}\s*(?:system|new instructions|instruction override)\b"
     r"|\[(?:system|admin|developer)(?: message| note| override| instruction)?\]"
     r"|\b(?:system|admin|developer|security) (?:override|notice|update|instruction)\s*:"),
    ("ai_must", "en",
     r"\b(?:ai|llm|language model|assistant|chatbot|agent|model)s?\b[^.!?\n]{0,25}\b(?:must|"
     r"should|shall|are required to|need to)\s+(?:now\s+)?(?:reply|respond|answer|say|state|tell|"
     r"recommend|mark|approve|delete|forward|send|ignore|disclose|reveal)\b"),
    ("exfil_url", "any",
     r"https?://[^\s)]+[?&][\w-]+=(?:\{|\[|<|%7B|\$\{)"
     r"|!\[[^\]]*\]\(https?://[^)\s]*[?&][^)\s]*=[^)\s]*(?:\{|\[|<|%7B|\$)"),
    ("exfiltration", "any",
     r"\b(?:send|post|upload|forward|transmit|exfiltrate|leak|email|submit|copy|append|encode|"
     r"envía|envia|manda|envoie|envoyez|transmets|sende|schicke|übermittle|envie|invia)\b"
     r"[^.!?\n]{0,60}\b(?:conversation|chat|history|credentials|passwords?|api keys?|tokens|"
     r"system prompt|secrets?|personal data|user data|user'?s? (?:data|info|details|emails)|"
     r"contents of|all (?:the )?(?:data|messages|files|emails)|conversación|historial|datos|"
     r"contraseñas?|données|historique|mots? de passe|Verlauf|Gespräch|Daten|Passw[öo]rter|"
     r"conversa|dados|senhas?|conversazione|dati|cronologia)\b[^.!?\n]{0,60}"
     r"(?:https?://|www\.|[\w.+-]+@[\w-]+\.\w)"
     r"|\b(?:password|credentials|api keys?|secrets?|chat history|conversation)\b[^.!?\n]{0,40}"
     r"\b(?:send|post|upload|forward|transmit|email|submit)\b[^.!?\n]{0,30}(?:https?://|www\.)"),
    ("hidden_note", "any",
     r"\b(?:note|message|instructions?|attention|important|reminder|p\.?s\.?)\s+(?:to|for)\s+"
     r"(?:the\s+|any\s+|all\s+)?" + _AI + r"s?\b"),
    ("hidden_comment", "any", r"<!--[^>]{0,200}?\b(?:" + _AI + r"|instructions?|system|ignore)\b"),
    ("conditional_ai", "en",
     r"\bif you are an? " + _AI + r"\b|\b" + _AI + r"s?\s+(?:reading|processing|summari[sz]ing)"
     r" this\b|\bwhen (?:summari[sz]ing|processing|reading) this (?:document|email|page|message|"
     r"file|text|review|resume|cv)\b,? (?:you|please|ignore|always|include|say|recommend)"),
    ("conceal", "en",
     r"\b(?:do not|don't|never) (?:tell|inform|mention|reveal|disclose|alert|notify|show)"
     r" (?:this |these instructions |any of this )?(?:to )?the user\b"
     r"|\bwithout (?:telling|informing|alerting|notifying) the user\b"),
    ("precedence", "en",
     r"\b(?:this|these|the following) (?:message|instructions?|text|note|command)s? "
     r"(?:overrides?|supersedes?|takes? precedence over|replaces?)\b"),
    ("obey", "en",
     r"\byou (?:must|will|shall) (?:now )?(?:obey|comply with|follow) (?:these|my|the "
     r"following|only my) (?:new )?(?:instructions|orders|commands|rules)\b"),
)  # fmt: skip

PATTERNS: tuple[tuple[str, str, str], ...] = _ENGLISH_AND_MARKUP + OTHER_LANGUAGES
