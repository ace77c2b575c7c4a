public import RouterSDK

/// Decodes a provider's streamed response body exactly as ``ChatClient/stream(_:logger:)`` does
/// — server-sent events parsed in place, each event's JSON read by the adapter's byte-level
/// decoder — without routing, settling or a consumer: the part the stream-decoding benchmark
/// measures. Not API: it may change in any release.
@_spi(Benchmarks)
public struct StreamBodyDecoder {
    private var parser = ServerSentEventParser()
    private var decoder: any ChatStreamDecoder
    private var pieces: [StreamPiece] = []
    /// Events completed so far.
    public private(set) var events = 0
    /// Bytes of text decoded so far.
    public private(set) var textBytes = 0
    /// Whether the terminal event arrived.
    public private(set) var ended = false

    /// A decoder for one response in `wireFormat`.
    public init(wireFormat: ProviderInfo.WireFormat) {
        decoder = Plan.adapter(for: wireFormat).makeStreamDecoder()
        pieces.reserveCapacity(4)
    }

    /// Feeds the next chunk of the body as it arrived from the network.
    ///
    /// - Throws: ``RouterSDK/ProviderError`` as the stream would.
    public mutating func feed(_ chunk: [UInt8]) throws {
        try parser.feed(chunk) { event throws(ProviderError) in
            events += 1
            try decoder.decode(event, into: &pieces)
            for piece in pieces {
                switch piece {
                case .text(let text): textBytes += text.utf8.count
                case .end: ended = true
                default: break
                }
            }
            pieces.removeAll(keepingCapacity: true)
        }
    }
}
