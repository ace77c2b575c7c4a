public import RouterSDK
/// One server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field (`nil` when absent: the default "message").
    public var event: String?
    /// The `data:` lines joined with newlines.
    public var data: String

    /// Creates an event.
    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }
}

/// An incremental parser of a `text/event-stream` body (the WHATWG format): feed it chunks as they
/// arrive, in any split, and it returns the events completed so far.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var event: String?
    private var data: [String] = []
    private var sawField = false
    private var lastWasCarriageReturn = false
    /// The most bytes one line may hold (a stream that never ends a line is refused).
    public let maxLineBytes: Int

    /// Creates a parser.
    public init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Whether a started event (or line) has not been completed by a blank line yet.
    public var hasPendingEvent: Bool { sawField || !line.isEmpty }

    /// Parses `bytes` and returns the events they complete.
    ///
    /// - Throws: ``RouterSDK/ProviderError`` `malformedResponse` for a line that is not UTF-8 or longer
    ///   than ``maxLineBytes``.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ProviderError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && lastWasCarriageReturn {
                lastWasCarriageReturn = false
                continue
            }
            lastWasCarriageReturn = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let event = try endLine() { events.append(event) }
            } else {
                guard line.count < maxLineBytes else {
                    throw ProviderError(.malformedResponse, message: "a server-sent event line passed \(maxLineBytes) bytes")
                }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() throws(ProviderError) -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard sawField else { return nil }
            let completed = ServerSentEvent(event: event, data: data.joined(separator: "\n"))
            event = nil
            data.removeAll()
            sawField = false
            return completed
        }
        guard let text = String(validating: line, as: UTF8.self) else {
            throw ProviderError(.malformedResponse, message: "a server-sent event line is not UTF-8")
        }
        if text.hasPrefix(":") { return nil }  // a comment (keep-alive)
        let name: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            name = Substring(text)
            value = ""
        }
        switch name {
        case "event": event = String(value); sawField = true
        case "data": data.append(String(value)); sawField = true
        default: break  // id, retry and unknown fields do not matter here
        }
        return nil
    }
}
