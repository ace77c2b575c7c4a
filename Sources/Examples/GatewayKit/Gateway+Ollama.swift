internal import Hummingbird
internal import Logging
internal import RouterChat
internal import RouterSDK

extension Gateway {
    /// Ollama's `POST /api/chat` and `POST /api/generate`.
    func ollama(_ endpoint: OllamaWriter.Endpoint, _ request: Request, _ context: BasicRequestContext) async -> Response {
        let parsed: OllamaRequest
        let logger: Logger
        do {
            (parsed, logger) = try await prepare(request, context, chat: \.chat) { body throws(GatewayError) in
                try endpoint == .chat ? OllamaRequest(chatBody: body) : OllamaRequest(generateBody: body)
            }
        } catch {
            return Self.error(error, as: OllamaWriter.self)
        }
        let writer = OllamaWriter(endpoint, model: parsed.chat.model)
        guard !parsed.chat.messages.isEmpty else {
            // An empty prompt is how Ollama clients load a model: answered here, once the
            // model is known, with nothing sent upstream.
            guard await !router.catalog.resolve(parsed.chat.model).isEmpty else {
                return Self.error(
                    GatewayError(.notFound, type: "invalid_request_error", code: "model_not_found", "model '\(parsed.chat.model)' not found", parameter: "model"),
                    as: OllamaWriter.self)
            }
            return Self.response(.ok, contentType: parsed.stream ? OllamaWriter.streamContentType : "application/json", writer.loaded() + (parsed.stream ? [UInt8(ascii: "\n")] : []))
        }
        return await answer(parsed.chat, stream: parsed.stream, with: writer, logger: logger)
    }

    /// Ollama's `GET /api/tags`: the models some key serves, as local models are listed (no
    /// size or digest: they are not files here).
    func ollamaTags(_ request: Request) async -> Response {
        let served: [ModelRef]
        do {
            served = await servedModels(for: try await caller(of: request))
        } catch {
            return Self.error(error, as: OllamaWriter.self)
        }
        let models: [JSONValue] = served.map { ref in
            [
                "name": .string(ref.name), "model": .string(ref.name), "modified_at": "1970-01-01T00:00:00Z", "size": 0, "digest": "",
                "details": ["parent_model": "", "format": "", "family": .string(ref.provider.rawValue), "families": [.string(ref.provider.rawValue)], "parameter_size": "", "quantization_level": ""],
            ]
        }
        return Self.json(.ok, ["models": .array(models)])
    }
}
