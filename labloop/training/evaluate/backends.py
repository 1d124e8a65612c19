"""Where answers come from: any OpenAI-compatible endpoint (bounded concurrency, bounded retries) or a model
directory loaded in-process with transformers (greedy decoding)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from labloop.config import Settings

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Answer:
    """A model's raw text, or the error that prevented one (counted as unanswered)."""

    text: str | None
    error: str | None = None
    latency_s: float = 0.0


class EndpointBackend:
    """Prompts sent to an OpenAI-compatible server (vLLM, a test server) with at most `concurrency` in flight."""

    def __init__(
        self, settings: Settings, *, base_url: str, model: str, api: str = "chat", concurrency: int = 8,
        max_tokens: int = 256, api_key: str | None = None, retries: int | None = None,
    ) -> None:
        if api not in {"chat", "completions"}:
            raise ValueError("api must be chat or completions")
        self.settings, self.base_url, self.model, self.api = settings, base_url, model, api
        self.concurrency, self.max_tokens, self.api_key = max(1, concurrency), max_tokens, api_key
        self.retries = settings.llm_max_retries if retries is None else retries
        self.label = f"{model} @ {base_url}"

    async def _one(self, client, prompt: str, gate: asyncio.Semaphore) -> Answer:
        from openai import OpenAIError

        error = ""
        async with gate:
            for attempt in range(self.retries + 1):
                started = time.perf_counter()
                try:
                    if self.api == "chat":
                        reply = await client.chat.completions.create(
                            model=self.model, messages=[{"role": "user", "content": prompt}],
                            temperature=0.0, max_tokens=self.max_tokens,
                        )
                        text = reply.choices[0].message.content
                    else:
                        reply = await client.completions.create(
                            model=self.model, prompt=prompt, temperature=0.0, max_tokens=self.max_tokens
                        )
                        text = reply.choices[0].text
                    return Answer(text=text or "", latency_s=time.perf_counter() - started)
                except (OpenAIError, ValueError, IndexError, AttributeError, TypeError) as exc:
                    error = f"{type(exc).__name__}: {exc}"[:300]
                    log.warning("request failed (attempt %d/%d): %s", attempt + 1, self.retries + 1, error)
        return Answer(text=None, error=error)

    async def _all(self, prompts: Sequence[str], progress: Progress | None) -> list[Answer]:
        from labloop.agents.llm_client import make_async_client

        client = make_async_client(
            self.settings, base_url=self.base_url, api_key=self.api_key, feature="evaluation",
            max_connections=self.concurrency,
        )
        gate = asyncio.Semaphore(self.concurrency)

        async def tracked(prompt: str) -> Answer:
            answer = await self._one(client, prompt, gate)
            if progress is not None:
                progress(1)
            return answer

        try:
            return list(await asyncio.gather(*(tracked(p) for p in prompts)))
        finally:
            await client.close()

    def generate(self, prompts: Sequence[str], progress: Progress | None = None) -> list[Answer]:
        return asyncio.run(self._all(prompts, progress))


class InProcessBackend:
    """A local model directory (full model or LoRA adapter) run with transformers, greedy, in batches."""

    def __init__(self, model_dir: Path, *, max_new_tokens: int = 64, batch_size: int = 8, model=None,
                 tokenizer=None) -> None:
        self.model_dir = Path(model_dir)
        self.max_new_tokens, self.batch_size = max_new_tokens, batch_size
        self.label = str(self.model_dir)
        self._model, self._tokenizer = model, tokenizer

    def _load(self) -> None:
        if self._model is not None:
            return
        from labloop.training.pretrain.base_model import load_causal_lm, load_tokenizer

        if (self.model_dir / "adapter_config.json").is_file():
            from peft import AutoPeftModelForCausalLM

            self._model = AutoPeftModelForCausalLM.from_pretrained(str(self.model_dir), local_files_only=True)
        else:
            self._model = load_causal_lm(self.model_dir)
        self._tokenizer = load_tokenizer(self.model_dir)
        self._model.eval()

    def generate(self, prompts: Sequence[str], progress: Progress | None = None) -> list[Answer]:
        import torch

        self._load()
        tokenizer, model = self._tokenizer, self._model
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        previous_side = tokenizer.padding_side
        tokenizer.padding_side = "left"
        was_training = model.training
        model.eval()
        answers: list[Answer] = []
        try:
            for start in range(0, len(prompts), self.batch_size):
                chunk = list(prompts[start : start + self.batch_size])
                started = time.perf_counter()
                bos = tokenizer.bos_token or ""
                batch = tokenizer([bos + p for p in chunk], return_tensors="pt", padding=True,
                                  add_special_tokens=False).to(model.device)
                with torch.no_grad():
                    output = model.generate(
                        **batch, max_new_tokens=self.max_new_tokens, do_sample=False,
                        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                    )
                new = output[:, batch["input_ids"].shape[1]:]
                latency = (time.perf_counter() - started) / len(chunk)
                answers.extend(Answer(text=t, latency_s=latency)
                               for t in tokenizer.batch_decode(new, skip_special_tokens=True))
                if progress is not None:
                    progress(len(chunk))
        finally:
            tokenizer.padding_side = previous_side
            if was_training:
                model.train()
        return answers
