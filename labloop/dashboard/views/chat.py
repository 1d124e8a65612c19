"""Chat: ask about runs, frames, notes and molecules. Answers stream in; tool calls are shown on demand;
cited records link to their pages. Without a configured model it says how to configure one."""

from __future__ import annotations

import re
import uuid

import streamlit as st

from labloop.agents.llm_client import LLMNotConfigured
from labloop.dashboard.common import settings

LINKS = {"run": "/run_detail?run={}", "molecule": "/molecules?molecule={}"}


def linked(text: str) -> str:
    """Turn [run:3] style citations into links to the record's page."""
    def repl(m: re.Match[str]) -> str:
        kind, rid = m.group(1), m.group(2)
        return f"[{kind}:{rid}]({LINKS[kind].format(rid)})" if kind in LINKS else m.group(0)
    return re.sub(r"\[(\w+):(\d+)\]", repl, text)


@st.cache_resource(show_spinner=False)
def _agent(db_url: str, base_url: str, model: str):  # noqa: ANN202 (cached ChatAgent)
    from labloop.agents.chat.agent import open_agent

    return open_agent(settings())


st.title("Chat")
cfg = settings()
if not cfg.llm_configured:
    st.warning(str(LLMNotConfigured("The chat")))
    st.code("export LABLOOP_LLM_BASE_URL=http://127.0.0.1:8000/v1   # `labloop serve`, Ollama, or OpenAI\n"
            "export LABLOOP_LLM_MODEL=<model name>\nexport LABLOOP_LLM_API_KEY=<key, if the endpoint needs one>\n"
            "labloop dashboard", language="bash")
    st.caption("Every other page works without a model.")
    st.stop()

from labloop.agents.chat.agent import ChatError  # noqa: E402 (after the configuration check)

thread = st.session_state.setdefault("chat_thread", uuid.uuid4().hex)
show_tools = st.toggle("Show tool calls", value=False, key="chat_show_tools")
agent = _agent(cfg.effective_database_url, cfg.llm_base_url or "", cfg.llm_model or "")
st.caption(f"Model {cfg.llm_model} at {cfg.llm_base_url} · read-only: it cannot change any record.")

for msg in agent.history(thread):
    if msg["role"] == "user":
        st.chat_message("user").write(msg["content"])
    elif msg["role"] == "assistant" and msg.get("content"):
        st.chat_message("assistant").markdown(linked(msg["content"]))
    elif msg["role"] == "tool" and show_tools:
        with st.chat_message("assistant", avatar=":material/build:").expander(f"tool {msg.get('name')}"):
            st.code(msg["content"][:3000], language="json")

question = st.chat_input("Ask about runs, frames, notes or molecules", max_chars=4000)
if question:
    st.chat_message("user").write(question)
    with st.chat_message("assistant"):
        box, tools_box, parts = st.empty(), st.container(), []

        def on_event(event: dict) -> None:
            if "token" in event:
                parts.append(event["token"])
                box.markdown("".join(parts) + " ▌")
            elif "tool" in event and show_tools:
                tools_box.caption(f"tool {event['tool']}({event['arguments']}) -> {'ok' if event['ok'] else 'error'}")

        try:
            answer = agent.ask(question, thread_id=thread, on_event=on_event)
        except ChatError as exc:
            box.error(str(exc))
        else:
            box.markdown(linked(answer.text))
            if answer.citations:
                st.caption("Sources: " + ", ".join(linked(f"[{c}]") for c in answer.citations))
            if answer.unverified:
                st.caption("Cited but not returned by any tool (check these): " + ", ".join(answer.unverified))
            st.caption(f"answer by {answer.model}" if answer.source == "llm" else answer.source)
