import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PythonScripts
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// The management API under `/admin`: behind the admin token, it adds, lists, disables, enables,
/// rotates and removes provider keys (secrets write-only), sets and reports budgets, issues
/// virtual keys, and reports usage and routing decisions — and the live server conforms to its
/// OpenAPI document.
@Suite struct AdminAPITests {
    static let token = "admin-token-0123456789"
    static var admin: HTTPFields { [.authorization: "Bearer \(token)"] }
    static let chat = #"{"model": "openai-model", "messages": [{"role": "user", "content": "Hello"}]}"#

    @Test func theAdminAPIIsOffWithoutATokenAndRefusesAWrongOne() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)]) { _, client in
            let off = try await client.execute(uri: "/admin/keys", method: .get, headers: Self.admin)
            #expect(off.status == .notFound)
        }
        try await GatewayFixture.run(keys: [("k1", .openai)], adminToken: Self.token) { _, client in
            for headers in [[:], [.authorization: "Bearer admin-token-012345678"], [.authorization: "Bearer \(Self.token)x"], [.authorization: Self.token]] as [HTTPFields] {
                let refused = try await client.execute(uri: "/admin/keys", method: .get, headers: headers)
                #expect(refused.status == .unauthorized)
                #expect(refused.headers[.wwwAuthenticate] == "Bearer")
                #expect(refused.json["error"]?["code"] == "invalid_admin_token")
            }
            #expect(try await client.execute(uri: "/admin/keys", method: .get, headers: Self.admin).status == .ok)
            // A browser opening the dashboard sends the token as a cookie.
            #expect(try await client.execute(uri: "/admin/keys", method: .get, headers: [.cookie: "theme=dark; token=\(Self.token)"]).status == .ok)
        }
    }

    @Test func providerKeysAreManagedWithWriteOnlySecrets() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], adminToken: Self.token) { fixture, client in
            let body = #"{"id": "k2", "provider": "openai", "secret": "sk-added-0123456789", "models": ["openai-model"], "priority": -1, "limits": {"requests_per_minute": 100}}"#
            let added = try await client.post("/admin/keys", json: body, headers: Self.admin)
            #expect(added.status == .created)
            #expect(added.json["id"] == "k2")
            #expect(added.json["limits"]?["requests_per_minute"] == 100)
            #expect(added.json["state"]?["name"] == "available")
            #expect(try await client.post("/admin/keys", json: body, headers: Self.admin).status == .conflict)
            let list = try await client.execute(uri: "/admin/keys", method: .get, headers: Self.admin)
            #expect(list.json.array?.compactMap { $0["id"]?.string } == ["k1", "k2"])
            #expect(!String(buffer: list.body).contains("sk-"))
            // k2 has the higher priority (-1 before 0): it serves, with its secret.
            #expect(try await client.post("/v1/chat/completions", json: Self.chat).status == .ok)
            #expect(fixture.upstream.requests.last?.secret == "sk-added-0123456789")
            let rotated = try await client.post("/admin/keys/k2/rotate", json: #"{"secret": "sk-rotated-0123456789"}"#, headers: Self.admin)
            #expect(rotated.status == .ok)
            _ = try await client.post("/v1/chat/completions", json: Self.chat)
            #expect(fixture.upstream.requests.last?.secret == "sk-rotated-0123456789")
            let disabled = try await client.post("/admin/keys/k2/disable", json: #"{"reason": "leaked"}"#, headers: Self.admin)
            #expect(disabled.json["state"] == ["name": "disabled", "cooldown_until": nil, "reason": "leaked"])
            _ = try await client.post("/v1/chat/completions", json: Self.chat)
            #expect(fixture.upstream.requests.last?.secret == GatewayFixture.secret("k1"))
            #expect(try await client.post("/admin/keys/k2/enable", json: "", headers: Self.admin).json["state"]?["name"] == "available")
            let one = try await client.execute(uri: "/admin/keys/k2", method: .get, headers: Self.admin)
            #expect(one.json["quota"]?["requests"] == 2)
            #expect(try await client.execute(uri: "/admin/keys/k2", method: .delete, headers: Self.admin).status == .noContent)
            #expect(try await client.execute(uri: "/admin/keys/k2", method: .get, headers: Self.admin).status == .notFound)
            #expect(try await client.execute(uri: "/admin/keys/k2", method: .delete, headers: Self.admin).status == .notFound)
            for (bad, parameter) in [
                (#"{"id": "k3", "provider": "openai"}"#, "secret"), (#"{"id": "k3", "provider": "openai", "secret": "s", "weight": 0}"#, "weight"),
                (#"{"id": "k3", "provider": "openai", "secret": "s", "models": "all"}"#, "models"), ("[]", nil),
                (#"{"id": "k3", "provider": "openai", "secret": "s", "limits": 5}"#, "limits"),
            ] as [(String, String?)] {
                let refused = try await client.post("/admin/keys", json: bad, headers: Self.admin)
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(refused.json["error"]?["param"]?.string == parameter, "\(bad)")
            }
            // A provider or model the catalog does not know: 404 naming it, no key added.
            let typo = try await client.post("/admin/keys", json: #"{"id": "k3", "provider": "opneai", "secret": "s"}"#, headers: Self.admin)
            #expect(typo.status == .notFound)
            #expect(typo.json["error"]?["code"] == "unknown_provider")
            let model = try await client.post("/admin/keys", json: #"{"id": "k3", "provider": "openai", "secret": "s", "models": ["gpt-9"]}"#, headers: Self.admin)
            #expect(model.status == .notFound)
            #expect(try await client.execute(uri: "/admin/keys/k3", method: .get, headers: Self.admin).status == .notFound)
        }
    }

    @Test func budgetsAreSetReportedAndRemoved() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], adminToken: Self.token) { _, client in
            let set = try await client.execute(
                uri: "/admin/budgets/daily", method: .put, headers: Self.admin.merging(contentType: true),
                body: ByteBuffer(string: #"{"scope": "model:openai-model", "period": "day", "limit_nanodollars": 5000000000}"#))
            #expect(set.status == .ok)
            #expect(set.json["scope"] == "model:openai-model")
            #expect(set.json["spent_nanodollars"] == 0)
            #expect(try await client.post("/v1/chat/completions", json: Self.chat).status == .ok)
            let status = try await client.execute(uri: "/admin/budgets/daily", method: .get, headers: Self.admin)
            let spent = try #require(status.json["spent_nanodollars"]?.integer)
            #expect(spent > 0)
            #expect(status.json["remaining_nanodollars"]?.integer == 5_000_000_000 - spent)
            #expect(try await client.execute(uri: "/admin/budgets", method: .get, headers: Self.admin).json.array?.count == 1)
            for bad in [#"{"period": "fortnight", "limit_nanodollars": 1}"#, #"{"period": "day", "limit_nanodollars": -5}"#, #"{"period": "day", "limit_nanodollars": 1, "scope": "planet:x"}"#] {
                let refused = try await client.execute(uri: "/admin/budgets/x", method: .put, headers: Self.admin.merging(contentType: true), body: ByteBuffer(string: bad))
                #expect(refused.status == .badRequest, "\(bad)")
            }
            #expect(try await client.execute(uri: "/admin/budgets/daily", method: .delete, headers: Self.admin).status == .noContent)
            #expect(try await client.execute(uri: "/admin/budgets/daily", method: .get, headers: Self.admin).status == .notFound)
        }
    }

    @Test func virtualKeysAreIssuedOnceAndReportedByUsage() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai)], virtualKeys: true, adminToken: Self.token) { _, client in
            let issued = try await client.post(
                "/admin/virtual-keys", json: #"{"name": "search", "tags": ["team:search"], "budget": {"period": "day", "limit_nanodollars": 1000000000}}"#,
                headers: Self.admin)
            #expect(issued.status == .created)
            let token = try #require(issued.json["token"]?.string)
            let id = try #require(issued.json["key"]?["id"]?.string)
            #expect(issued.json["budget"]?["scope"]?.string == "tag:vkey:\(id)")
            let other = try #require(try await client.post("/admin/virtual-keys", json: #"{"name": "other"}"#, headers: Self.admin).json["token"]?.string)
            for caller in [token, token, other] {
                #expect(try await client.post("/v1/chat/completions", json: Self.chat, headers: [.authorization: "Bearer \(caller)"]).status == .ok)
            }
            let list = try await client.execute(uri: "/admin/virtual-keys", method: .get, headers: Self.admin)
            #expect(list.json.array?.count == 2)
            #expect(!String(buffer: list.body).contains(String(token.suffix(20))))
            let report = try await client.execute(uri: "/admin/usage?group_by=tag", method: .get, headers: Self.admin)
            let rows = report.json["rows"]?.array ?? []
            #expect(rows.first { $0["group"]?.string == "vkey:\(id)" }?["requests"] == 2)
            #expect(rows.first { $0["group"]?.string == "team:search" }?["requests"] == 2)
            let csv = try await client.execute(uri: "/admin/usage?group_by=key&format=csv&from=0", method: .get, headers: Self.admin)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = String(buffer: csv.body).split(separator: "\r\n")
            #expect(lines.first == "group,requests,input_tokens,output_tokens,cost_nanodollars")
            #expect(lines.dropFirst().first?.hasPrefix("k1,3,") == true)
            let decisions = try await client.execute(uri: "/admin/decisions?limit=2", method: .get, headers: Self.admin)
            #expect(decisions.json.array?.count == 2)
            #expect(decisions.json[0]?["reason"]?.string?.isEmpty == false)
            let empty = try await client.execute(uri: "/admin/usage?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00%2B01:00", method: .get, headers: Self.admin)
            #expect(empty.json["rows"] == [])
            for bad in ["/admin/usage?group_by=planet", "/admin/usage?from=yesterday", "/admin/usage?from=2026-13-01T00:00:00Z", "/admin/usage?format=xml", "/admin/decisions?limit=0"] {
                #expect(try await client.execute(uri: bad, method: .get, headers: Self.admin).status == .badRequest, "\(bad)")
            }
            let rotated = try await client.post("/admin/virtual-keys/\(id)/rotate", json: "", headers: Self.admin)
            let newToken = try #require(rotated.json["token"]?.string)
            #expect(try await client.post("/v1/chat/completions", json: Self.chat, headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)
            #expect(try await client.post("/admin/virtual-keys/\(id)/disable", json: "", headers: Self.admin).json["disabled"] == true)
            #expect(try await client.post("/v1/chat/completions", json: Self.chat, headers: [.authorization: "Bearer \(newToken)"]).status == .unauthorized)
            #expect(try await client.post("/admin/virtual-keys/\(id)/enable", json: "", headers: Self.admin).json["disabled"] == false)
            #expect(try await client.post("/v1/chat/completions", json: Self.chat, headers: [.authorization: "Bearer \(newToken)"]).status == .ok)
            #expect(try await client.execute(uri: "/admin/virtual-keys/\(id)", method: .delete, headers: Self.admin).status == .noContent)
            #expect(try await client.execute(uri: "/admin/virtual-keys/\(id)", method: .get, headers: Self.admin).status == .notFound)
            #expect(try await client.post("/admin/virtual-keys", json: #"{"tags": []}"#, headers: Self.admin).json["error"]?["param"] == "name")
        }
        // Without virtual keys there are none to manage: 409, not a silent no-op.
        try await GatewayFixture.run(keys: [("k1", .openai)], adminToken: Self.token) { _, client in
            let off = try await client.post("/admin/virtual-keys", json: #"{"name": "x"}"#, headers: Self.admin)
            #expect(off.status == .conflict)
        }
    }

    @Test(.enabled(if: PythonScript.python != nil || PythonScript.required, "needs schemathesis in .local/venv (scripts/with-services.sh installs it)"))
    func theLiveServerConformsToItsOpenAPIDocument() async throws {
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)], virtualKeys: true, adminToken: Self.token, setup: .live) { _, client in
            let port = try #require(client.port)
            let (status, output) = try await PythonScript.run("gateway-admin-check.py", [String(port), Self.token])
            #expect(status == 0, "\(output)")
            #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 2, "\(output)")
        }
    }
}

extension HTTPFields {
    /// These fields with `content-type: application/json`.
    func merging(contentType: Bool) -> HTTPFields {
        var fields = self
        if contentType { fields[.contentType] = "application/json" }
        return fields
    }
}
