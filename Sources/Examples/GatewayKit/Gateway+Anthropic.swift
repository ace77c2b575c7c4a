internal import Hummingbird
internal import RouterChat

extension Gateway {
    /// Anthropic's `POST /v1/messages`.
    func messages(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let parsed: AnthropicMessagesRequest
        do {
            parsed = try AnthropicMessagesRequest(body: try await body(of: request).readableBytesView)
        } catch {
            return Self.error(error, as: AnthropicMessagesWriter.self)
        }
        return await answer(parsed.chat, stream: parsed.stream, with: AnthropicMessagesWriter(model: parsed.chat.model), context)
    }
}
