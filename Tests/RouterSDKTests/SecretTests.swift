import Foundation
import InMemoryLogging
import Logging
import RouterSDK
import RouterTesting
import Testing

@Suite struct SecretTests {
    static let plaintext = "sk-live-TOPSECRET-0123456789"

    @Test func secretsNeverPrint() {
        let secret = Secret(Self.plaintext)
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, "\(secret)", String(describing: secret), String(reflecting: secret), dumped, "\(Mirror(reflecting: secret).children.map { "\($0)" })"] {
            #expect(!text.contains("TOPSECRET"), "leaked: \(text)")
        }
        #expect(secret.fingerprint.hasPrefix("len28#"))
        #expect(secret.withPlaintext { $0 } == Self.plaintext)
    }

    @Test func sealingRoundTripsAndDetectsTampering() throws {
        let sealer = SecretSealer(current: testMasterKey)
        let sealed = try sealer.seal(Secret(Self.plaintext))
        #expect(!String(decoding: sealed.combined, as: UTF8.self).contains("TOPSECRET"))
        #expect(try sealer.open(sealed) == Secret(Self.plaintext))
        // Two seals of one secret differ (fresh nonce).
        #expect(try sealer.seal(Secret(Self.plaintext)).combined != sealed.combined)
        var tampered = sealed
        tampered.combined[tampered.combined.startIndex + 14] ^= 0xFF
        #expect { try sealer.open(tampered) } throws: { ($0 as? RouterError)?.code == .secretUnsealFailed }
        let other = SecretSealer(current: MasterKey.random(id: "other"))
        #expect { try other.open(sealed) } throws: { ($0 as? RouterError)?.code == .secretUnsealFailed }
        // Rotation: a sealer with the old key as previous opens old records.
        let rotated = SecretSealer(current: MasterKey.random(id: "new"), previous: [testMasterKey])
        #expect(try rotated.open(sealed) == Secret(Self.plaintext))
    }

    @Test func masterKeysValidateTheirMaterial() throws {
        #expect { try MasterKey(id: "short", bytes: [1, 2, 3]) } throws: { ($0 as? RouterError)?.code == .invalidMasterKey }
        #expect { try MasterKey(id: "b64", base64: "not base64!") } throws: { ($0 as? RouterError)?.code == .invalidMasterKey }
        #expect { try MasterKey.fromEnvironment(["ROUTERSDK_MASTER_KEY": "AAAA"]) } throws: { ($0 as? RouterError)?.code == .invalidMasterKey }
        #expect(try MasterKey.fromEnvironment([:]) == nil)
        let encoded = Data(repeating: 9, count: 32).base64EncodedString()
        #expect((try? MasterKey.fromEnvironment(["ROUTERSDK_MASTER_KEY": encoded]))??.id == "env")
        #expect(!testMasterKey.description.contains("7"))
    }

    @Test func noSecretInLogsErrorsEventsLeasesOrTheStore() async throws {
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "capture") { _ in logs }
        logger.logLevel = .trace
        let clock = ManualClock()
        let store = InMemoryStateStore()
        let router = try makeRouter(clock: clock, store: store, logger: logger) { $0.decisionSampleInterval = 1 }
        let events = EventCollector(await router.events())
        let secret = Secret(Self.plaintext)
        try await router.register(APIKey(id: "k", provider: .openai, secret: secret, models: ["small"]))
        let lease = try await router.route(RouteRequest(model: "small", maxOutputTokens: 10, explain: true))
        var texts = ["\(lease)", String(reflecting: lease), lease.decision.explanation]
        try await router.release(lease, failure: .authInvalid)
        do { _ = try await router.route(.small()) } catch { texts.append("\(error)"); texts.append(String(reflecting: error)) }
        do { try await router.register(APIKey(id: "k", provider: .openai, secret: secret)) } catch { texts.append("\(error)") }
        try await router.rotate("k", to: Secret(Self.plaintext + "-2"))
        try await router.settle(try await router.route(.small()), usage: .none)
        for event in try await events.finish(router) { texts.append("\(event)") }
        for entry in logs.entries { texts.append("\(entry.message) \(entry.metadata)") }
        var dumped = ""
        dump(try await store.loadKeys(), to: &dumped)
        dump(try await store.transitions(of: nil, limit: 100), to: &dumped)
        dump(try await store.usageEvents(from: Timestamp(nanosecondsSinceEpoch: 0), to: clock.now() + .seconds(1), limit: 100), to: &dumped)
        dump(try await store.decisionSamples(limit: 100), to: &dumped)
        texts.append(dumped)
        #expect(logs.entries.count > 3)
        #expect(dumped.contains("sealedSecret"))
        for text in texts { #expect(!text.contains("TOPSECRET"), "leaked: \(text)") }
    }
}
