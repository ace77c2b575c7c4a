#!/usr/bin/env python3
"""Drives RouterTesting's FakeProviderServer with the official provider SDKs from PyPI and checks
its answers against their response schemas, strictly (pydantic `model_validate`, not the SDKs'
lenient construction): what a real client parses, the fake must send.

Usage: official-sdk-check.py PORT  (the fake's scripted keys are set up by the calling test)
Prints one line per check; exits 1 if any failed.
"""
import json
import sys
import urllib.request

import anthropic
import openai
from sdkcheck import check, finish
from anthropic.types import Message, RawMessageStreamEvent
from google import genai
from google.genai import types as gtypes
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from pydantic import TypeAdapter

BASE = f"http://127.0.0.1:{sys.argv[1]}"


def post(path, payload, headers):
    """The raw response of a POST (status, content type, body bytes)."""
    request = urllib.request.Request(BASE + path, data=json.dumps(payload).encode(), headers={"content-type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


def sse_data(body):
    """The data of each server-sent event of a body."""
    events, data = [], []
    for line in body.decode().split("\n"):
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and data:
            events.append("\n".join(data))
            data = []
    return events


# OpenAI ----------------------------------------------------------------------------------------
oai = openai.OpenAI(base_url=f"{BASE}/openai/v1", api_key="sk-sdk-openai", max_retries=0)
MESSAGES = [{"role": "user", "content": "Hello"}]


def openai_chat():
    raw = oai.chat.completions.with_raw_response.create(model="small", messages=MESSAGES)
    ChatCompletion.model_validate_json(raw.text)
    completion = raw.parse()
    assert completion.choices[0].message.content, completion
    assert completion.usage and completion.usage.prompt_tokens > 0, completion.usage


def openai_tools():
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    client = openai.OpenAI(base_url=f"{BASE}/openai/v1", api_key="sk-sdk-openai-tools", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="small", messages=MESSAGES, tools=tools)
    ChatCompletion.model_validate_json(raw.text)
    call = raw.parse().choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}, call


def openai_stream(include_usage):
    def run():
        options = {"stream_options": {"include_usage": True}} if include_usage else {}
        text, usage = "", None
        for chunk in oai.chat.completions.create(model="small", messages=MESSAGES, stream=True, **options):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            usage = chunk.usage or usage
        assert text, "no text streamed"
        assert (usage is not None) == include_usage, f"usage {usage} with include_usage={include_usage}"
        payload = {"model": "small", "messages": MESSAGES, "stream": True, **options}
        _, content_type, body = post("/openai/v1/chat/completions", payload, {"authorization": "Bearer sk-sdk-openai"})
        assert content_type.startswith("text/event-stream"), content_type
        events = sse_data(body)
        assert events[-1] == "[DONE]", events[-1]
        for data in events[:-1]:
            ChatCompletionChunk.model_validate_json(data)
    return run


# Anthropic -------------------------------------------------------------------------------------
def anthropic_message(client):
    def run():
        raw = client.messages.with_raw_response.create(model="claude", max_tokens=64, messages=MESSAGES)
        Message.model_validate_json(raw.http_response.text)
        message = raw.parse()
        assert message.content[0].text and message.usage.input_tokens > 0, message
    return run


def anthropic_stream():
    client = anthropic.Anthropic(base_url=f"{BASE}/anthropic", api_key="sk-sdk-anthropic", max_retries=0)
    with client.messages.stream(model="claude", max_tokens=64, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.content[0].text and final.usage.output_tokens > 0, final
    _, _, body = post("/anthropic/v1/messages", {"model": "claude", "max_tokens": 64, "messages": MESSAGES, "stream": True},
                      {"x-api-key": "sk-sdk-anthropic", "anthropic-version": "2023-06-01"})
    adapter = TypeAdapter(RawMessageStreamEvent)
    for data in sse_data(body):
        event = json.loads(data)
        if event["type"] != "ping":
            adapter.validate_python(event)


def anthropic_tools():
    client = anthropic.Anthropic(base_url=f"{BASE}/anthropic", api_key="sk-sdk-anthropic-tools", max_retries=0)
    raw = client.messages.with_raw_response.create(
        model="claude", max_tokens=64, messages=MESSAGES,
        tools=[{"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}])
    Message.model_validate_json(raw.http_response.text)
    block = [block for block in raw.parse().content if block.type == "tool_use"][0]
    assert block.name == "get_weather" and block.input == {"city": "Paris"}, block


# Gemini ----------------------------------------------------------------------------------------
CLIENTS = []  # kept alive: a dropped genai.Client closes its HTTP client


def gemini_client(key):
    client = genai.Client(api_key=key, http_options=gtypes.HttpOptions(base_url=f"{BASE}/gemini/", api_version="v1beta"))
    CLIENTS.append(client)
    return client


def gemini_generate():
    response = gemini_client("g-sdk-gemini").models.generate_content(model="gemini-small", contents="Hello")
    assert response.text and response.usage_metadata.prompt_token_count > 0, response
    _, _, body = post("/gemini/v1beta/models/gemini-small:generateContent", {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
                      {"x-goog-api-key": "g-sdk-gemini"})
    gtypes.GenerateContentResponse.model_validate(json.loads(body))


def gemini_stream():
    text = "".join(chunk.text or "" for chunk in gemini_client("g-sdk-gemini").models.generate_content_stream(model="gemini-small", contents="Hello"))
    assert text, "no text streamed"
    # The key as a query parameter, as the REST examples pass it.
    _, _, body = post("/gemini/v1beta/models/gemini-small:streamGenerateContent?alt=sse&key=g-sdk-gemini-query",
                      {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}, {})
    for data in sse_data(body):
        gtypes.GenerateContentResponse.model_validate(json.loads(data))


def gemini_tools():
    response = gemini_client("g-sdk-gemini-tools").models.generate_content(model="gemini-small", contents="Weather?")
    call = response.function_calls[0]
    assert call.name == "get_weather" and call.args == {"city": "Paris"}, call


check("openai chat completion", openai_chat)
check("openai tool call", openai_tools)
check("openai stream with include_usage", openai_stream(True))
check("openai stream without include_usage", openai_stream(False))
check("anthropic message (x-api-key)", anthropic_message(anthropic.Anthropic(base_url=f"{BASE}/anthropic", api_key="sk-sdk-anthropic", max_retries=0)))
check("anthropic message (Authorization: Bearer)", anthropic_message(anthropic.Anthropic(base_url=f"{BASE}/anthropic", auth_token="sk-sdk-anthropic-bearer", max_retries=0)))
check("anthropic stream", anthropic_stream)
check("anthropic tool use", anthropic_tools)
check("gemini generateContent", gemini_generate)
check("gemini stream (and ?key=)", gemini_stream)
check("gemini function call", gemini_tools)
finish()
