#!/usr/bin/env python3
"""Drives the Gateway with the official `anthropic` Python SDK from PyPI, as any Anthropic client
would use it with a base URL: a message, a stream (every event validated, then the SDK's own
accumulation of it), tools whole and streamed, the model list, and errors raised as the SDK's
exception types. Answers are validated against the SDK's schemas strictly (pydantic
`model_validate`/`TypeAdapter`, not the SDK's lenient construction).

Usage: gateway-anthropic-check.py PORT  (the calling test scripts the fake upstream behind the gateway)
Prints one line per check; exits 1 if any failed.
"""
import sys

import anthropic
import pydantic
from anthropic.types import Message, RawMessageStreamEvent
from sdkcheck import check, finish

client = anthropic.Anthropic(base_url=f"http://127.0.0.1:{sys.argv[1]}", api_key="unused-here", max_retries=0, timeout=20)
MESSAGES = [{"role": "user", "content": "Hello"}]
TOOLS = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)


def message():
    raw = client.messages.with_raw_response.create(model="openai-model", system="Be brief.", messages=MESSAGES, max_tokens=50)
    Message.model_validate_json(raw.http_response.text, strict=True)
    parsed = raw.parse()
    assert parsed.content[0].text == "Hello from the gateway", parsed
    assert parsed.stop_reason == "end_turn", parsed.stop_reason
    assert parsed.usage.output_tokens > 0, parsed.usage


def stream():
    with client.messages.with_streaming_response.create(model="gemini-model", messages=MESSAGES, max_tokens=50, stream=True) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    # `ping` is outside the SDK's event union (its stream skips it), as in Anthropic's own streams.
    events = [EVENT.validate_json(line[6:], strict=True) for line in lines if '"type":"ping"' not in line]
    assert [e.type for e in events][0] == "message_start" and events[-1].type == "message_stop", events
    with client.messages.stream(model="gemini-model", messages=MESSAGES, max_tokens=50) as events:
        text = "".join(events.text_stream)
        final = events.get_final_message()
    assert text == "Hello from the gateway", text
    assert final.stop_reason == "end_turn", final.stop_reason
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0, final.usage


def tools():
    raw = client.messages.with_raw_response.create(model="anthropic-model", messages=MESSAGES, max_tokens=50, tools=TOOLS)
    Message.model_validate_json(raw.http_response.text, strict=True)
    block = raw.parse().content[-1]
    assert block.type == "tool_use" and block.name == "get_weather" and block.input == {"city": "Paris"}, block
    with client.messages.stream(model="anthropic-model", messages=MESSAGES, max_tokens=50, tools=TOOLS) as events:
        final = events.get_final_message()
    uses = [b for b in final.content if b.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [("get_weather", {"city": "Paris"})], final.content
    assert final.stop_reason == "tool_use", final.stop_reason


def models():
    ids = sorted(model.id for model in client.models.list())
    assert ids == ["anthropic-model", "gemini-model", "openai-model"], ids


def unknown_model():
    try:
        client.messages.create(model="no-such-model", messages=MESSAGES, max_tokens=5)
    except anthropic.NotFoundError as error:
        assert error.body["error"]["type"] == "not_found_error", error.body
        return
    raise AssertionError("no NotFoundError")


def bad_request():
    try:
        client.messages.create(model="openai-model", messages=MESSAGES, max_tokens=-1)
    except anthropic.BadRequestError as error:
        assert error.body["error"]["type"] == "invalid_request_error", error.body
        return
    raise AssertionError("no BadRequestError")


check("message", message)
check("stream, every event validated", stream)
check("tools, whole and streamed", tools)
check("models list", models)
check("unknown model is NotFoundError", unknown_model)
check("bad max_tokens is BadRequestError", bad_request)
finish()
