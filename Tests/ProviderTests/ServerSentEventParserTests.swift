import RouterSDK
import RouterChat
import Testing

@Suite struct ServerSentEventParserTests {
    @Test func parsesEventsAcrossChunksLineEndingsAndComments() throws {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in [": keep-alive\r\n\r\nevent: a\r\ndata: one\r", "\ndata:two\n", "\n", "data: {\"x\":1}\n\nid: 7\nretry: 10\ndata: last\n"] {
            events += try parser.feed(Array(chunk.utf8))
        }
        #expect(events == [ServerSentEvent(event: "a", data: "one\ntwo"), ServerSentEvent(data: #"{"x":1}"#)])
        #expect(parser.hasPendingEvent)
        events = try parser.feed(Array("\n".utf8))
        #expect(events == [ServerSentEvent(data: "last")])
        #expect(!parser.hasPendingEvent)
    }

    @Test func refusesNonUTF8AndEndlessLines() {
        var parser = ServerSentEventParser()
        #expect(throws: ProviderError.self) { try parser.feed([0x64, 0x61, 0x74, 0x61, 0x3A, 0xFF, 0x0A]) }
        var small = ServerSentEventParser(maxLineBytes: 16)
        #expect(throws: ProviderError.self) { try small.feed(Array(repeating: UInt8(ascii: "x"), count: 17)) }
    }

    @Test func estimatesTokensAsDocumented() {
        let request = ChatRequest(model: "m", messages: [.user("12345678"), ChatMessage(role: .user, content: [.imageURL("u")])], system: "abcd")
        // 12 bytes of text -> 3 tokens; 2 messages x 4; 1 image x 1,000.
        #expect(TokenEstimator.inputTokens(of: request) == 3 + 8 + 1_000)
        #expect(TokenEstimator.tokens(in: "") == 0 && TokenEstimator.tokens(in: "abcde") == 2)
    }
}
