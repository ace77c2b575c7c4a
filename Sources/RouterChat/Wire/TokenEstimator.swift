internal import RouterSDK
/// Estimates a request's input tokens before the call, so limits and budgets reserve enough; the
/// provider's reported usage replaces the estimate when the call settles.
///
/// The approximation, documented so callers know its error: one token per 4 UTF-8 bytes of text
/// (rounded up; English runs ≈ 4 characters per token in the OpenAI, Anthropic and Gemini
/// tokenizers, other scripts use more tokens per byte), plus 4 tokens of framing per message,
/// 1,000 tokens per image (OpenAI bills 85–1,105 for common sizes, Anthropic up to ≈ 1,600), and
/// the JSON of tool definitions at the same rate. It tends to over-reserve for English and
/// under-reserve for CJK text.
public enum TokenEstimator {
    /// Tokens of framing counted per message.
    public static let tokensPerMessage = 4
    /// Tokens counted per image.
    public static let tokensPerImage = 1_000

    /// The estimated input tokens of `request`.
    public static func inputTokens(of request: ChatRequest) -> Int {
        var bytes = request.system?.utf8.count ?? 0
        var tokens = 0
        for message in request.messages {
            tokens += tokensPerMessage
            for part in message.content {
                switch part {
                case .text(let text): bytes += text.utf8.count
                case .imageURL, .imageData: tokens += tokensPerImage
                }
            }
            for call in message.toolCalls { bytes += call.name.utf8.count + call.arguments.utf8.count }
        }
        for tool in request.tools { bytes += tool.name.utf8.count + tool.description.utf8.count + tool.parameters.jsonBytes.count }
        return tokens + textTokens(bytes: bytes)
    }

    /// The bytes of a request's text (system prompt and text parts): how much room its encoded
    /// body needs, give or take the framing.
    static func textBytes(of request: ChatRequest) -> Int {
        var bytes = request.system?.utf8.count ?? 0
        for message in request.messages {
            for case .text(let text) in message.content { bytes += text.utf8.count }
        }
        return bytes
    }

    /// The estimated tokens of `text` (used for output a stream produced before it broke).
    public static func tokens(in text: String) -> Int { textTokens(bytes: text.utf8.count) }

    private static func textTokens(bytes: Int) -> Int { (bytes + 3) / 4 }
}
