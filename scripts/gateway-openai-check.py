#!/usr/bin/env python3
"""Drives the Gateway with the official `openai` Python SDK from PyPI, as any OpenAI client would
use it with a base URL: a chat, a stream with usage, tools, and errors. Every answer is also
validated against the SDK's response schemas strictly (pydantic `model_validate`, not the SDK's
lenient construction).

Usage: gateway-openai-check.py PORT  (the calling test scripts the fake upstream behind the gateway)
Prints one line per check; exits 1 if any failed.
"""
import sys

import openai
from sdkcheck import check, finish
from openai.types.chat import ChatCompletion, ChatCompletionChunk

client = openai.OpenAI(base_url=f"http://127.0.0.1:{sys.argv[1]}/v1", api_key="unused-here", max_retries=0, timeout=20)
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


def chat():
    raw = client.chat.completions.with_raw_response.create(model="openai-model", messages=MESSAGES, max_tokens=50)
    completion = ChatCompletion.model_validate_json(raw.http_response.text)
    assert completion.choices[0].message.content == "Hello from the gateway", completion
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert raw.parse().choices[0].finish_reason == "stop"


def stream():
    # Every chunk as sent, against the schema; then the SDK's own reading of a second stream.
    with client.chat.completions.with_streaming_response.create(
        model="anthropic-model", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        data = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]", data[-1]
    for payload in data[:-1]:
        ChatCompletionChunk.model_validate_json(payload)
    text, usage, reason = "", None, None
    for chunk in client.chat.completions.create(
        model="anthropic-model", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reason = choice.finish_reason or reason
    assert text == "Hello from the gateway", text
    assert reason == "stop", reason
    assert usage is not None and usage.completion_tokens > 0, usage


def tools():
    raw = client.chat.completions.with_raw_response.create(model="gemini-model", messages=MESSAGES, tools=TOOLS)
    ChatCompletion.model_validate_json(raw.http_response.text)
    completion = raw.parse()
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather", call
    assert completion.choices[0].finish_reason == "tool_calls"
    streamed = [c for c in client.chat.completions.create(model="gemini-model", messages=MESSAGES, tools=TOOLS, stream=True)]
    names = [tc.function.name for c in streamed for ch in c.choices for tc in (ch.delta.tool_calls or [])]
    assert names == ["get_weather"], names


def unknown_model():
    try:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES)
    except openai.NotFoundError as error:
        assert error.body["code"] == "model_not_found", error.body
        return
    raise AssertionError("no NotFoundError")


def bad_request():
    try:
        client.chat.completions.create(model="openai-model", messages=MESSAGES, temperature=7)
    except openai.BadRequestError as error:
        assert error.body["param"] == "temperature", error.body
        return
    raise AssertionError("no BadRequestError")


def models():
    ids = sorted(model.id for model in client.models.list())
    assert ids == ["anthropic-model", "gemini-model", "openai-model"], ids


check("chat completion", chat)
check("stream with usage", stream)
check("tools, whole and streamed", tools)
check("unknown model is NotFoundError", unknown_model)
check("bad temperature is BadRequestError", bad_request)
check("models list", models)
finish()
