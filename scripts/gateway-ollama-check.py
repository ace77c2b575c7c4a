#!/usr/bin/env python3
"""Drives the Gateway with the official `ollama` Python client from PyPI, as any Ollama client
would use it with a host: chat whole and streamed, generate, tools, the model list, and errors
raised as the client's `ResponseError` with their status. Raw answers are also validated against
the client's response models strictly.

Usage: gateway-ollama-check.py PORT  (the calling test scripts the fake upstream behind the gateway)
Prints one line per check; exits 1 if any failed.
"""
import json
import sys

import httpx
import ollama
from ollama import ChatResponse, GenerateResponse
from sdkcheck import check, finish

HOST = f"http://127.0.0.1:{sys.argv[1]}"
client = ollama.Client(host=HOST, timeout=20)
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


def chat():
    response = client.chat(model="openai-model", messages=MESSAGES, options={"num_predict": 50})
    assert response.message.content == "Hello from the gateway", response
    assert response.done and response.done_reason == "stop", response
    assert response.eval_count > 0 and response.prompt_eval_count > 0, response
    raw = httpx.post(f"{HOST}/api/chat", json={"model": "openai-model", "messages": MESSAGES, "stream": False}, timeout=20)
    ChatResponse.model_validate_json(raw.text, strict=True)


def chat_stream():
    parts = list(client.chat(model="anthropic-model", messages=MESSAGES, stream=True))
    assert "".join(p.message.content or "" for p in parts) == "Hello from the gateway", parts
    assert parts[-1].done and not any(p.done for p in parts[:-1]), parts
    with httpx.stream("POST", f"{HOST}/api/chat", json={"model": "anthropic-model", "messages": MESSAGES}, timeout=20) as raw:
        assert raw.headers["content-type"] == "application/x-ndjson", raw.headers
        for line in raw.iter_lines():
            ChatResponse.model_validate_json(line, strict=True)


def generate():
    whole = client.generate(model="openai-model:latest", prompt="Hello", system="Be brief.")
    assert whole.response == "Hello from the gateway", whole
    streamed = list(client.generate(model="openai-model", prompt="Hello", stream=True))
    assert "".join(p.response for p in streamed) == "Hello from the gateway", streamed
    assert streamed[-1].done, streamed[-1]
    raw = httpx.post(f"{HOST}/api/generate", json={"model": "openai-model", "prompt": "Hello", "stream": False}, timeout=20)
    GenerateResponse.model_validate_json(raw.text, strict=True)


def tools():
    response = client.chat(model="gemini-model", messages=MESSAGES, tools=TOOLS)
    call = response.message.tool_calls[0]
    assert call.function.name == "get_weather" and call.function.arguments == {"city": "Paris"}, call
    # The result goes back as Ollama sends it: a tool message named by the tool.
    follow = MESSAGES + [response.message, {"role": "tool", "tool_name": "get_weather", "content": "Sunny"}]
    answer = client.chat(model="openai-model", messages=follow)
    assert answer.message.content == "Hello from the gateway", answer


def models():
    names = sorted(model.model for model in client.list().models)
    assert names == ["anthropic-model", "gemini-model", "openai-model"], names
    assert json.loads(httpx.get(f"{HOST}/api/version", timeout=20).text)["version"], "no version"


def unknown_model():
    try:
        client.chat(model="llama3", messages=MESSAGES)
    except ollama.ResponseError as error:
        assert error.status_code == 404, error
        return
    raise AssertionError("no ResponseError")


def bad_request():
    try:
        client.chat(model="openai-model", messages=[{"role": "wizard", "content": "hi"}])
    except ollama.ResponseError as error:
        assert error.status_code == 400 and "role" in error.error, error
        return
    raise AssertionError("no ResponseError")


check("chat", chat)
check("chat stream, every line validated", chat_stream)
check("generate, whole and streamed", generate)
check("tools and a tool result", tools)
check("model list and version", models)
check("unknown model is a 404 ResponseError", unknown_model)
check("bad role is a 400 ResponseError", bad_request)
finish()
