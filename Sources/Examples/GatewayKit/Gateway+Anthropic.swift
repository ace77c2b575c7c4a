internal import Hummingbird
internal import Logging
internal import RouterChat

extension Gateway {
    /// Anthropic's `POST /v1/messages`.
    func messages(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let parsed: AnthropicMessagesRequest
        let logger: Logger
        do {
            (parsed, logger) = try await prepare(request, context, chat: \.chat) { body throws(GatewayError) in try AnthropicMessagesRequest(body: body) }
        } catch {
            return Self.error(error, as: AnthropicMessagesWriter.self)
        }
        return await answer(parsed.chat, stream: parsed.stream, with: AnthropicMessagesWriter(model: parsed.chat.model), logger: logger)
    }
}
