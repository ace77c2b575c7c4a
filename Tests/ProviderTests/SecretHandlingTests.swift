import RouterSDK
import RouterChat
import RouterTesting
import Testing

/// Secrets never reach an error message, a description or a test double's record.
@Suite struct SecretHandlingTests {
    /// A provider (or proxy) that echoes the key near the 500-character cut: the secret is
    /// scrubbed before the message is cut, so no prefix of it survives.
    @Test(arguments: [480, 490, 495, 499, 500, 8_190])
    func aSecretEchoedAtTheCutLeavesNoPrefix(offset: Int) async throws {
        try await withProviders(keys: [("k1", .openai)]) { fixture in
            let secret = ProviderFixture.secret("k1")
            let message = String(repeating: "x", count: offset) + "Incorrect API key provided: " + secret + " tail"
            let body = #"{"error":{"message":"\#(message)","type":"invalid_request_error"}}"#
            fixture.server.script(secret: secret, [.error(status: 400, body: body)])
            do {
                _ = try await fixture.client.chat(ChatRequest(model: "small", messages: [.user("hi")]))
                Issue.record("expected the 400 to be thrown")
            } catch {
                let error = try #require(providerError(error))
                #expect(error.message.count <= ProviderError.maximumMessageLength + 1)
                for length in 6...secret.count {
                    #expect(!error.message.contains(secret.prefix(length)), "a \(length)-character prefix of the secret survived")
                    #expect(!"\(error)".contains(secret.prefix(length)))
                }
            }
        }
    }

    @Test func requestsDescribeAndRecordWithoutCredentials() async throws {
        let request = TransportRequest(
            url: "https://generativelanguage.googleapis.com/v1beta/models/x:generateContent?alt=sse&key=AIza-SECRET-1",
            headers: [("Authorization", "Bearer sk-SECRET-2"), ("x-api-key", "sk-ant-SECRET-3"), ("content-type", "application/json")],
            body: Array("{}".utf8))
        for text in ["\(request)", String(reflecting: request)] {
            #expect(!text.contains("SECRET"))
            #expect(text.contains("content-type: application/json"))
        }
        let transport = MockTransport { sent in
            // The responder sees the request as sent (it may check authentication)...
            #expect(sent.header("authorization") == "Bearer sk-SECRET-2")
            return TransportResponse(status: 500, body: [])
        }
        _ = try await transport.send(request)
        // ...but the record keeps no plaintext.
        let recorded = try #require(transport.requests.first)
        #expect(recorded.header("authorization") == "<redacted>")
        #expect(recorded.header("x-api-key") == "<redacted>")
        #expect(!recorded.url.contains("SECRET"))
    }
}
