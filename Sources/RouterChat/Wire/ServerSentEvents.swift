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

/// A completed event as the parser holds it: views of its buffers, valid only inside the
/// callback that receives them (the stream decoders read them without making strings).
struct RawServerSentEvent {
    /// The `event:` field's bytes (`nil` when absent).
    var name: UnsafeBufferPointer<UInt8>?
    /// The `data:` lines joined with newlines.
    var data: UnsafeBufferPointer<UInt8>

    /// Whether the data is exactly `text`.
    func dataIs(_ text: StaticString) -> Bool {
        JSONKey(bytes: data) == text
    }
}

/// An incremental parser of a `text/event-stream` body (the WHATWG format): feed it chunks as they
/// arrive, in any split, and it returns the events completed so far.
///
/// Lines complete within a chunk are read in place; only a line split across chunks is copied,
/// and the buffers are reused from event to event, so a long stream parses without allocating.
public struct ServerSentEventParser: Sendable {
    /// The start of a line split across chunks.
    private var partialLine: [UInt8] = []
    private var eventName: [UInt8] = []
    private var hasEventName = false
    private var data: [UInt8] = []
    private var dataLines = 0
    private var sawField = false
    private var lastWasCarriageReturn = false
    /// The most bytes one line may hold (a stream that never ends a line is refused).
    public let maxLineBytes: Int

    /// Creates a parser.
    public init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Whether a started event (or line) has not been completed by a blank line yet.
    public var hasPendingEvent: Bool { sawField || !partialLine.isEmpty }

    /// Parses `bytes` and returns the events they complete.
    ///
    /// - Throws: ``RouterSDK/ProviderError`` `malformedResponse` for a line that is not UTF-8 or longer
    ///   than ``maxLineBytes``.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ProviderError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        try feed(Array(bytes)) { (event: RawServerSentEvent) throws(ProviderError) in
            events.append(ServerSentEvent(event: event.name.map { String(decoding: $0, as: UTF8.self) }, data: String(decoding: event.data, as: UTF8.self)))
        }
        return events
    }

    /// Parses `chunk`, handing each completed event to `onEvent` (in order) as views of the
    /// parser's buffers.
    mutating func feed(_ chunk: [UInt8], _ onEvent: (RawServerSentEvent) throws(ProviderError) -> Void) throws(ProviderError) {
        try chunk.withUnsafeBufferPointer { buffer throws(ProviderError) in try feed(buffer, onEvent) }
    }

    private mutating func feed(_ buffer: UnsafeBufferPointer<UInt8>, _ onEvent: (RawServerSentEvent) throws(ProviderError) -> Void) throws(ProviderError) {
        var position = 0
        if lastWasCarriageReturn, position < buffer.count, buffer[position] == UInt8(ascii: "\n") {
            position += 1  // the \n of a \r\n split across chunks
        }
        lastWasCarriageReturn = false
        while position < buffer.count {
            var end = position
            var ascii: UInt8 = 0
            // Eight bytes at a time while none ends a line; their high bits say if all are ASCII.
            var highBits: UInt64 = 0
            while buffer.count - end >= 8 {
                let word = UnsafeRawPointer(buffer.baseAddress! + end).loadUnaligned(as: UInt64.self)
                guard !Self.hasLineEnd(word) else { break }
                highBits |= word
                end += 8
            }
            if highBits & 0x8080_8080_8080_8080 != 0 { ascii = 0x80 }
            while end < buffer.count, buffer[end] != UInt8(ascii: "\n"), buffer[end] != UInt8(ascii: "\r") {
                ascii |= buffer[end]
                end += 1
            }
            guard end < buffer.count else {
                // No line end in this chunk: keep the start of the line for the next one.
                try appendPartial(UnsafeBufferPointer(rebasing: buffer[position..<end]))
                return
            }
            var next = end + 1
            if buffer[end] == UInt8(ascii: "\r") {
                if next < buffer.count {
                    if buffer[next] == UInt8(ascii: "\n") { next += 1 }
                } else {
                    lastWasCarriageReturn = true
                }
            }
            let completed: Bool
            if partialLine.isEmpty {
                guard end - position <= maxLineBytes else {
                    throw ProviderError(.malformedResponse, message: "a server-sent event line passed \(maxLineBytes) bytes")
                }
                completed = try endLine(UnsafeBufferPointer(rebasing: buffer[position..<end]), ascii: ascii < 0x80)
            } else {
                try appendPartial(UnsafeBufferPointer(rebasing: buffer[position..<end]))
                var line = partialLine
                partialLine = []
                completed = try line.withUnsafeBufferPointer { joined throws(ProviderError) in try endLine(joined, ascii: false) }
                line.removeAll(keepingCapacity: true)
                partialLine = line
            }
            if completed {
                let named = hasEventName
                try eventName.withUnsafeBufferPointer { name throws(ProviderError) in
                    try data.withUnsafeBufferPointer { data throws(ProviderError) in
                        try onEvent(RawServerSentEvent(name: named ? name : nil, data: data))
                    }
                }
                eventName.removeAll(keepingCapacity: true)
                data.removeAll(keepingCapacity: true)
                hasEventName = false
                dataLines = 0
                sawField = false
            }
            position = next
        }
    }

    private mutating func appendPartial(_ bytes: UnsafeBufferPointer<UInt8>) throws(ProviderError) {
        guard partialLine.count + bytes.count <= maxLineBytes else {
            throw ProviderError(.malformedResponse, message: "a server-sent event line passed \(maxLineBytes) bytes")
        }
        partialLine.append(contentsOf: bytes)
    }

    /// Takes one line; returns `true` when it is the blank line that completes an event.
    private mutating func endLine(_ line: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(ProviderError) -> Bool {
        if line.isEmpty { return sawField }
        guard ascii || Self.isASCII(line) || Self.isValidUTF8(line) else {
            throw ProviderError(.malformedResponse, message: "a server-sent event line is not UTF-8")
        }
        if line[0] == UInt8(ascii: ":") { return false }  // a comment (keep-alive)
        var colon = 0
        while colon < line.count, line[colon] != UInt8(ascii: ":") { colon += 1 }
        let name = UnsafeBufferPointer(rebasing: line[0..<colon])
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<line.count])
        if JSONKey(bytes: name) == "data" {
            if dataLines > 0 { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            dataLines += 1
            sawField = true
        } else if JSONKey(bytes: name) == "event" {
            eventName.removeAll(keepingCapacity: true)
            eventName.append(contentsOf: value)
            hasEventName = true
            sawField = true
        }
        // id, retry and unknown fields do not matter here
        return false
    }

    /// Whether any of a word's eight bytes is `\n` or `\r` (a byte is zero after XOR with it).
    @inline(__always)
    private static func hasLineEnd(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ value: UInt64) -> Bool { (value &- ones) & ~value & highs != 0 }
        return hasZeroByte(word ^ (ones &* 0x0A)) || hasZeroByte(word ^ (ones &* 0x0D))
    }

    /// Whether every byte is ASCII, eight at a time.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var position = 0
        var bits: UInt64 = 0
        while bytes.count - position >= 8 {
            bits |= UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            position += 8
        }
        var tail: UInt8 = 0
        while position < bytes.count {
            tail |= base[position]
            position += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0 && tail < 0x80
    }

    /// Validates UTF-8 without allocating.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !transcode(bytes.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
    }
}
