internal import HTTPTypes
internal import Hummingbird
internal import Logging
internal import RouterChat
internal import RouterSDK

extension Gateway {
    /// OpenAI's `POST /v1/chat/completions`.
    func chatCompletions(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let parsed: OpenAIChatCompletionRequest
        let logger: Logger
        do {
            (parsed, logger) = try await prepare(request, context, chat: \.chat) { body throws(GatewayError) in try OpenAIChatCompletionRequest(body: body) }
        } catch {
            return Self.error(error, as: OpenAIChatCompletionWriter.self)
        }
        let writer = OpenAIChatCompletionWriter(model: parsed.chat.model, includeUsage: parsed.includeUsage)
        return await answer(parsed.chat, stream: parsed.stream, with: writer, logger: logger)
    }

    /// `GET /v1/models` in OpenAI's format, or Anthropic's when the caller sends the
    /// `anthropic-version` header its SDK always sends (both APIs use this path).
    func models(_ request: Request) async -> Response {
        let isAnthropic = request.headers[.anthropicVersion] != nil
        let served: [ModelRef]
        do {
            served = await servedModels(for: try await caller(of: request))
        } catch {
            return isAnthropic ? Self.error(error, as: AnthropicMessagesWriter.self) : Self.error(error, as: OpenAIChatCompletionWriter.self)
        }
        if isAnthropic {
            let data: [JSONValue] = served.map { ref in
                ["type": "model", "id": .string(ref.name), "display_name": .string(ref.name), "created_at": "1970-01-01T00:00:00Z"]
            }
            return Self.json(.ok, [
                "data": .array(data), "has_more": false,
                "first_id": served.first.map { .string($0.name) } ?? .null, "last_id": served.last.map { .string($0.name) } ?? .null,
            ])
        }
        let data: [JSONValue] = served.map { ref in
            ["id": .string(ref.name), "object": "model", "created": 0, "owned_by": .string(ref.provider.rawValue)]
        }
        return Self.json(.ok, ["object": "list", "data": .array(data)])
    }
}

extension HTTPField.Name {
    /// The API version every Anthropic SDK request carries.
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
}
