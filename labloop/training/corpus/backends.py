"""Generation backends: any OpenAI-compatible endpoint (bounded async concurrency, bounded retries) or vLLM's
offline engine on a GPU machine. Both answer `GenRequest`s through a callback as answers arrive, so the caller
can cache each one at once and an interrupted build loses nothing it already paid for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)


class EndpointUnavailable(RuntimeError):
    """The endpoint cannot be reached or keeps failing; the build stops (its cache is kept)."""


class BackendUnavailable(RuntimeError):
    """The chosen backend cannot run on this machine (e.g. vLLM is not installed)."""


@dataclass(frozen=True)
class GenRequest:
    key: str
    prompt: str
    params: dict[str, Any]


@dataclass(frozen=True)
class GenAnswer:
    """A generated text, or `error` (a short reason such as "timeout" or "http_500") when it failed."""

    key: str
    text: str | None
    model: str
    latency_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


class Backend(Protocol):
    name: str
    model: str

    async def run(self, requests: Iterable[GenRequest], on_answer: Callable[[GenAnswer], None]) -> None: ...


class OpenAIBackend:
    """Chat completions against an OpenAI-compatible endpoint with `concurrency` requests in flight."""

    name = "openai"

    def __init__(
        self, client: Any, model: str, *, concurrency: int = 16, retries: int = 2, backoff_s: float = 0.5,
        max_consecutive_failures: int = 20, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.model = model
        self.concurrency = max(1, concurrency)
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.max_consecutive_failures = max(1, max_consecutive_failures)
        self._sleep = sleep
        self._failure_streak = 0
        self._last_error = ""

    @property
    def base_url(self) -> str:
        return str(self.client.base_url)

    async def run(self, requests: Iterable[GenRequest], on_answer: Callable[[GenAnswer], None]) -> None:
        pending: Iterator[GenRequest] = iter(requests)

        async def worker() -> None:
            for request in pending:
                on_answer(await self._one(request))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.concurrency):
                    group.create_task(worker())
        except* EndpointUnavailable as eg:
            raise eg.exceptions[0] from None

    async def _one(self, request: GenRequest) -> GenAnswer:
        import openai

        error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await self._sleep(self.backoff_s * 2 ** (attempt - 1))
            started = time.perf_counter()
            try:
                response = await self.client.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": request.prompt}], **request.params
                )
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                raise EndpointUnavailable(
                    f"the endpoint {self.base_url} refused the request ({exc.status_code}): {_message(exc)}. "
                    "Check LABLOOP_LLM_MODEL / --model and the API key."
                ) from None
            except openai.APITimeoutError:
                error = "timeout"
                continue
            except openai.APIConnectionError as exc:
                error = f"connection: {exc.__cause__ or exc}"
                continue
            except openai.APIStatusError as exc:
                error = f"http_{exc.status_code}"
                continue
            except (openai.APIError, ValueError) as exc:
                error = f"bad_response: {type(exc).__name__}"
                continue
            self._failure_streak = 0
            usage = response.usage
            choice = response.choices[0] if response.choices else None
            return GenAnswer(
                key=request.key, text=(choice.message.content if choice else None) or "", model=response.model or self.model,
                latency_s=time.perf_counter() - started, prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
            )
        self._failure_streak += 1
        if error.startswith("connection"):
            raise EndpointUnavailable(
                f"cannot reach the endpoint {self.base_url} after {self.retries + 1} attempts ({error}). "
                "Is the server running? Answers received so far are cached; rerun the same command to resume."
            )
        if self._failure_streak >= self.max_consecutive_failures:
            raise EndpointUnavailable(
                f"the endpoint {self.base_url} failed {self._failure_streak} requests in a row (last: {error}). "
                "Answers received so far are cached; rerun the same command to resume."
            )
        log.debug("request %s failed after %d attempts: %s", request.key[:12], self.retries + 1, error)
        return GenAnswer(key=request.key, text=None, model=self.model, error=error.split(":")[0])


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)
    return str(exc)


class VLLMBackend:
    """vLLM's offline engine (`vllm.LLM`) on the local GPU, fed in chunks so answers are cached as they finish."""

    name = "vllm"

    def __init__(self, model: str, *, chunk_size: int = 512, **engine_kwargs: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise BackendUnavailable(
                f"the vLLM backend needs the `vllm` package ({exc}). Install the serve extra on a GPU machine "
                "(pip install 'labloop[serve]') or use an OpenAI-compatible endpoint (--backend openai)."
            ) from None
        self._vllm = vllm
        self.model = model
        self.chunk_size = chunk_size
        self._llm = vllm.LLM(model=model, **engine_kwargs)

    async def run(self, requests: Iterable[GenRequest], on_answer: Callable[[GenAnswer], None]) -> None:
        batch: list[GenRequest] = []
        for request in requests:
            batch.append(request)
            if len(batch) >= self.chunk_size:
                await self._generate(batch, on_answer)
                batch = []
        if batch:
            await self._generate(batch, on_answer)

    async def _generate(self, batch: list[GenRequest], on_answer: Callable[[GenAnswer], None]) -> None:
        params = [self._vllm.SamplingParams(**r.params) for r in batch]
        conversations = [[{"role": "user", "content": r.prompt}] for r in batch]
        started = time.perf_counter()
        outputs = await asyncio.to_thread(self._llm.chat, conversations, params, use_tqdm=False)
        latency = (time.perf_counter() - started) / max(1, len(batch))
        for request, out in zip(batch, outputs, strict=True):
            completion = out.outputs[0] if out.outputs else None
            on_answer(GenAnswer(
                key=request.key, text=completion.text if completion else "", model=self.model, latency_s=latency,
                prompt_tokens=len(out.prompt_token_ids or []), completion_tokens=len(completion.token_ids) if completion else 0,
            ))
