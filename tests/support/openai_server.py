"""A real HTTP server speaking the OpenAI API (chat completions, completions, models), scripted per test.

Tests queue replies (`server.enqueue(Reply.text("..."))`) or install a function that answers each request
(`server.handler = lambda request: Reply.json({...})`). Every request body is kept in `server.requests`.
The `openai` client talks to it over real HTTP: `base_url=server.base_url`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: content and/or tool calls, or an HTTP error, optionally after a delay."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_body: str = ""
    delay_s: float = 0.0
    finish_reason: str | None = None
    raw_body: bytes | None = None

    @classmethod
    def text(cls, content: str, *, delay_s: float = 0.0) -> Reply:
        return cls(content=content, delay_s=delay_s)

    @classmethod
    def json(cls, obj: Any, *, delay_s: float = 0.0) -> Reply:
        return cls(content=json.dumps(obj), delay_s=delay_s)

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any] | str, *, call_id: str | None = None) -> Reply:
        return cls.tool_calls_(
            [{"name": name, "arguments": arguments, "id": call_id or f"call_{uuid.uuid4().hex[:8]}"}]
        )

    @classmethod
    def tool_calls_(cls, calls: list[dict[str, Any]]) -> Reply:
        out = []
        for call in calls:
            args = call["arguments"]
            out.append(
                {
                    "id": call.get("id") or f"call_{uuid.uuid4().hex[:8]}",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": args if isinstance(args, str) else json.dumps(args)},
                }
            )
        return cls(tool_calls=out)

    @classmethod
    def error(cls, status: int = 500, message: str = "scripted server error") -> Reply:
        return cls(status=status, error_body=json.dumps({"error": {"message": message, "type": "server_error"}}))

    @classmethod
    def garbage(cls, body: bytes = b"<html>not json</html>") -> Reply:
        return cls(raw_body=body)


def _prompt_text(request: dict[str, Any]) -> str:
    if "prompt" in request:
        prompt = request["prompt"]
        return prompt if isinstance(prompt, str) else "\n".join(map(str, prompt))
    parts = []
    for message in request.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return "\n".join(parts)


class ScriptedOpenAIServer:
    """Start with `with ScriptedOpenAIServer() as server:`; `server.base_url` ends in /v1."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, model: str = "scripted-model") -> None:
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.handler: Callable[[dict[str, Any]], Reply] | None = None
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._make_handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def __enter__(self) -> ScriptedOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return self.handler(request)
        return Reply.error(500, "no scripted reply left")

    def _make_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "test"}]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    request = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, b'{"error": {"message": "bad json"}}')
                    return
                request["_path"] = self.path
                reply = server._next_reply(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    self._send(reply.status, reply.error_body.encode())
                    return
                if reply.raw_body is not None:
                    self._send(200, reply.raw_body)
                    return
                if self.path.rstrip("/").endswith("/completions") and "chat" not in self.path:
                    self._send(200, json.dumps(self._completion(request, reply)).encode())
                elif request.get("stream"):
                    self._stream(request, reply)
                else:
                    self._send(200, json.dumps(self._chat(request, reply)).encode())

            def _usage(self, request: dict[str, Any], reply: Reply) -> dict[str, int]:
                prompt_tokens = max(1, len(_prompt_text(request).split()))
                completion_tokens = len((reply.content or "").split()) + 10 * len(reply.tool_calls)
                return {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                }

            def _chat(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
                message: dict[str, Any] = {"role": "assistant", "content": reply.content}
                if reply.tool_calls:
                    message["tool_calls"] = reply.tool_calls
                finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
                return {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model") or server.model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": self._usage(request, reply),
                }

            def _completion(self, request: dict[str, Any], reply: Reply) -> dict[str, Any]:
                return {
                    "id": f"cmpl-{uuid.uuid4().hex[:12]}",
                    "object": "text_completion",
                    "created": int(time.time()),
                    "model": request.get("model") or server.model,
                    "choices": [{"index": 0, "text": reply.content or "", "finish_reason": "stop", "logprobs": None}],
                    "usage": self._usage(request, reply),
                }

            def _stream(self, request: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                base = {
                    "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": request.get("model") or server.model,
                }
                deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
                for word in (reply.content or "").split(" ") if reply.content else []:
                    deltas.append({"content": word + " "})
                for index, call in enumerate(reply.tool_calls):
                    deltas.append({"tool_calls": [{"index": index, **call}]})
                chunks = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
                finish = "tool_calls" if reply.tool_calls else "stop"
                chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
                try:
                    for chunk in chunks:
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler
