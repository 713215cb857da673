"""PLLaVA's conversation templates, rendered byte-for-byte like the original demo, plus history trimming."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sitewatch.errors import BackendError, ModelLoadError
from sitewatch.prompts import DEFAULT_SYSTEM_PROMPT
from sitewatch.schema import Message

logger = logging.getLogger(__name__)

IMAGE_TOKEN = "<image>"


@dataclass(frozen=True)
class Template:
    """One of the original `Conversation` templates, with what the demo's upload step adds."""

    name: str
    user: str
    assistant: str
    user_sep: str
    assistant_sep: str
    upload_messages: tuple[str, ...]
    answer_prefix: str
    stop_token: str


# Upload adds "<image> " on its own (INTERLEAF, empty query): hence the double space and second "USER:".
# The demo stored raw decoded answers, which start with the space that follows "ASSISTANT:".
PLAIN = Template(
    name="plain",
    user="USER:",
    assistant="ASSISTANT:",
    user_sep=" ",
    assistant_sep="</s>",
    upload_messages=(f"{IMAGE_TOKEN} ",),
    answer_prefix=" ",
    stop_token="</s>",
)

# MM_ALONE with an empty upload query: an "<image>\n" turn and then an empty user turn; no system header.
CHATML = Template(
    name="eval_vcg_llavanext",
    user="<|im_start|>user\n",
    assistant="<|im_start|>assistant\n",
    user_sep="<|im_end|>\n",
    assistant_sep="<|im_end|>\n",
    upload_messages=(f"{IMAGE_TOKEN}\n", ""),
    answer_prefix="",
    stop_token="<|im_end|>",
)

def template_for(tokenizer: Any) -> Template:
    """ChatML for the Yi-based 34B (its tokenizer knows <|im_start|>), Vicuna `plain` for 7B/13B."""
    return CHATML if "<|im_start|>" in tokenizer.get_vocab() else PLAIN


def render(template: Template, messages: list[Message], default_system: str = DEFAULT_SYSTEM_PROMPT) -> str:
    """The prompt the original demo built for this conversation, ending with the assistant role."""
    system = default_system
    turns: list[tuple[str, str]] = [("user", text) for text in template.upload_messages]
    for message in messages:
        if message.role == "system":
            system = message.content
        elif message.role == "user":
            turns.append(("user", message.content))
        else:
            turns.append(("assistant", template.answer_prefix + message.content))
    if turns[-1][0] != "user":
        raise BackendError("the conversation must end with a user message")
    prompt = system + template.user_sep if system else ""
    for index, (role, text) in enumerate(turns):
        is_user = role == "user"
        prompt += (template.user if is_user else template.assistant) + text
        if index < len(turns) - 1:
            prompt += template.user_sep if is_user else template.assistant_sep
    return prompt + template.user_sep + template.assistant


def trim_history(messages: list[Message], fits: Callable[[list[Message]], bool]) -> list[Message]:
    """Drop the oldest question/answer turns until `fits` accepts the rest; the last question stays."""
    system = [m for m in messages if m.role == "system"][-1:]
    turns = [m for m in messages if m.role != "system"]
    dropped = 0
    while not fits(system + turns):
        if len(turns) <= 1:
            raise BackendError("the question alone is too long for the model's 4096-position context")
        turns = turns[2:] if turns[0].role == "user" and turns[1].role == "assistant" else turns[1:]
        dropped += 1
    if dropped:
        logger.info("dropped %d old turn(s) to stay within the context window", dropped)
    return system + turns


def settle_image_token_id(tokenizer: Any, config_id: int | None) -> int:
    """The `<image>` id as the tokenizer encodes it; a differing config value is overridden with a warning."""
    token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    if token_id is None or token_id == tokenizer.unk_token_id:
        raise ModelLoadError(f"the tokenizer has no {IMAGE_TOKEN} token; it cannot serve a PLLaVA model")
    encoded = tokenizer(IMAGE_TOKEN, add_special_tokens=False)["input_ids"]
    # Llama tokenizers may put a lone "▁" piece before it; what matters is that the id appears once.
    if encoded.count(token_id) != 1:
        raise ModelLoadError(f"the tokenizer encodes {IMAGE_TOKEN} as {encoded}, not as its id {token_id}")
    if config_id is not None and config_id != token_id:
        # Known for 34B: the config says 64002 while tokenizers versions give 64000 or 64003.
        logger.warning(
            "config image_token_index %s differs from the tokenizer's %s; using %s",
            config_id,
            token_id,
            token_id,
        )
    return int(token_id)
