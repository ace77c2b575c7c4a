internal import NIOCore
internal import RouterChat

/// How one inbound API writes its answers: whole, streamed event by event, and failed.
///
/// A writer is made for one answer and carries what its stream needs to remember (the open
/// content block, the tool calls so far, the usage to report at the end), so the gateway's
/// streaming loop is the same for every API.
protocol AnswerWriter: Sendable {
    /// The content type of a streamed answer (`text/event-stream`, `application/x-ndjson`).
    static var streamContentType: String { get }

    /// An error answer's body; the gateway sets the status and `retry-after`.
    static func errorBody(_ error: GatewayError) -> [UInt8]

    /// A whole answer's body.
    func completion(_ response: ChatResponse) -> [UInt8]

    /// What a stream starts with, before its first event (may be empty).
    mutating func opening() -> ByteBuffer

    /// What one event becomes (empty for events this API does not send).
    mutating func write(_ event: ChatStreamEvent) -> ByteBuffer

    /// What ends a stream whose events all arrived.
    mutating func closing() -> ByteBuffer

    /// What ends a stream that failed after it started: the API's in-stream error.
    mutating func failure(_ error: GatewayError) -> ByteBuffer
}

extension ByteBuffer {
    /// One server-sent event: an optional `event:` line and a `data:` line.
    static func serverSentEvent(_ json: [UInt8], name: String? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + 16 + (name?.utf8.count ?? 0))
        if let name {
            buffer.writeString("event: ")
            buffer.writeString(name)
            buffer.writeString("\n")
        }
        buffer.writeString("data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// One line of newline-delimited JSON.
    static func jsonLine(_ json: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + 1)
        buffer.writeBytes(json)
        buffer.writeString("\n")
        return buffer
    }
}
