internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import Logging
internal import NIOCore
internal import RouterChat

extension Gateway {
    /// The caller's virtual key, read from `Authorization: Bearer …` (OpenAI, Ollama) or
    /// `x-api-key` (Anthropic); `nil` when the gateway runs without virtual keys.
    ///
    /// - Throws: 401 for a missing, malformed, unknown, wrong or disabled key (one message for
    ///   the first four, so ids cannot be probed); 429 with `retry-after` when the key's own rate
    ///   limit is spent.
    func caller(of request: Request) async throws(GatewayError) -> VirtualKey? {
        guard let virtualKeys else { return nil }
        var token = request.headers[.xAPIKey]
        if token == nil, let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        guard let token, !token.isEmpty else {
            throw GatewayError(.unauthorized, type: "invalid_request_error", code: "missing_api_key", "a gateway key is required (Authorization: Bearer or x-api-key)")
        }
        switch await virtualKeys.authenticate(token) {
        case .success(let key): return key
        case .failure(.unauthenticated):
            throw GatewayError(.unauthorized, type: "invalid_request_error", code: "invalid_api_key", "the gateway key is not valid")
        case .failure(.disabled):
            throw GatewayError(.unauthorized, type: "invalid_request_error", code: "key_disabled", "the gateway key is disabled")
        case .failure(.rateLimited(let seconds)):
            throw GatewayError(
                .tooManyRequests, type: "rate_limit_error", code: "rate_limit_exceeded", "the gateway key's rate limit is reached",
                retryAfterSeconds: seconds)
        }
    }

    /// Authenticates the caller, reads the body with `read` and applies the caller's key to the
    /// request read: its model must be one the key allows (403 otherwise), and its tags and the
    /// key's own tag join the request's, so tag budgets and usage reports see them.
    func prepare<Parsed>(
        _ request: Request, _ context: BasicRequestContext, chat: WritableKeyPath<Parsed, ChatRequest>,
        _ read: (ByteBufferView) throws(GatewayError) -> Parsed
    ) async throws(GatewayError) -> (Parsed, Logger) {
        let key = try await caller(of: request)
        var parsed = try read(try await body(of: request).readableBytesView)
        var logger = context.logger
        guard let key else { return (parsed, logger) }
        let model = parsed[keyPath: chat].model
        guard key.allows(model) else {
            throw GatewayError(
                .forbidden, type: "invalid_request_error", code: "model_not_allowed", "this gateway key may not use model '\(model)'", parameter: "model")
        }
        parsed[keyPath: chat].tags.formUnion(key.tags)
        parsed[keyPath: chat].tags.insert(key.ownTag)
        logger[metadataKey: "virtual_key"] = "\(key.id)"
        return (parsed, logger)
    }
}

extension HTTPField.Name {
    /// Anthropic's header for the API key.
    static let xAPIKey = HTTPField.Name("x-api-key")!
}
