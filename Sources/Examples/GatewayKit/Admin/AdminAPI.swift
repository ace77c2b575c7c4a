internal import Foundation
internal import HTTPTypes
internal import Hummingbird
internal import NIOCore
internal import RouterChat
internal import RouterSDK

/// The management API under `/admin`, behind the admin bearer token
/// (``GatewayConfiguration/adminToken``): provider keys, budgets, virtual keys, usage reports
/// and recent routing decisions, as JSON (usage also as CSV). Its OpenAPI document is
/// `GET /admin/openapi.json`. Errors are OpenAI-shaped JSON with the status (400 naming the
/// member, 401 wrong token, 404 an unknown id — or a provider or model the catalog does not
/// know —, 409 duplicate or conflicting change, 503 store).
struct AdminAPI: Sendable {
    let gateway: Gateway
    var router: LLMRouter { gateway.router }

    func add(to routes: Router<BasicRequestContext>) {
        let admin = routes.group("admin").add(middleware: AdminTokenMiddleware(token: gateway.configuration.adminToken))
        admin.get("openapi.json") { _, _ in
            AdminOpenAPI.document.isEmpty ? Response(status: .internalServerError) : Gateway.response(.ok, contentType: "application/json", AdminOpenAPI.document)
        }
        // Provider keys.
        admin.get("keys") { _, _ in try await respond { .array(try await keyViews()) } }
        admin.post("keys") { request, _ in try await respond(.created) { try await addKey(request) } }
        admin.get("keys/:id") { _, context in try await respond { try await keyView(KeyID(try context.parameters.require("id"))) } }
        admin.delete("keys/:id") { _, context in
            try await respond(.noContent) { try await router.remove(KeyID(try context.parameters.require("id"))); return nil }
        }
        admin.post("keys/:id/disable") { request, context in
            try await respond {
                let id = KeyID(try context.parameters.require("id"))
                var reason = "disabled through the admin API"
                switch try await object(request, optional: true)["reason"] {
                case nil, .null?: break
                case .string(let text)?: reason = text
                default: throw GatewayError.invalidRequest("'reason' must be a string", parameter: "reason")
                }
                try await router.disable(id, reason: reason)
                return try await keyView(id)
            }
        }
        admin.post("keys/:id/enable") { _, context in
            try await respond {
                let id = KeyID(try context.parameters.require("id"))
                try await router.enable(id)
                return try await keyView(id)
            }
        }
        admin.post("keys/:id/rotate") { request, context in
            try await respond {
                let id = KeyID(try context.parameters.require("id"))
                try await router.rotate(id, to: Secret(try RequestFields.name(try await object(request)["secret"], "secret")))
                return try await keyView(id)
            }
        }
        // Budgets.
        admin.get("budgets") { _, _ in try await respond { .array(await router.budgetStatuses().map(AdminJSON.budget)) } }
        admin.get("budgets/:id") { _, context in try await respond { AdminJSON.budget(try await router.budgetStatus(BudgetID(try context.parameters.require("id")))) } }
        admin.put("budgets/:id") { request, context in
            try await respond {
                let budget = try AdminRequests.budget(try context.parameters.require("id"), try await object(request))
                try await router.setBudget(budget)
                return AdminJSON.budget(try await router.budgetStatus(budget.id))
            }
        }
        admin.delete("budgets/:id") { _, context in
            try await respond(.noContent) { try await router.removeBudget(BudgetID(try context.parameters.require("id"))); return nil }
        }
        // Virtual keys.
        admin.get("virtual-keys") { _, _ in try await respond { .array(try await virtualKeys().list().map(AdminJSON.virtualKey)) } }
        admin.post("virtual-keys") { request, _ in try await respond(.created) { try await createVirtualKey(request) } }
        admin.get("virtual-keys/:id") { _, context in
            try await respond { AdminJSON.virtualKey(try found(try await virtualKeys().key(try context.parameters.require("id")))) }
        }
        admin.post("virtual-keys/:id/disable") { _, context in
            try await respond { AdminJSON.virtualKey(try found(try await virtualKeys().setDisabled(try context.parameters.require("id"), true))) }
        }
        admin.post("virtual-keys/:id/enable") { _, context in
            try await respond { AdminJSON.virtualKey(try found(try await virtualKeys().setDisabled(try context.parameters.require("id"), false))) }
        }
        admin.post("virtual-keys/:id/rotate") { _, context in
            try await respond {
                let rotated = try found(try await virtualKeys().rotate(try context.parameters.require("id")))
                return ["key": AdminJSON.virtualKey(rotated.key), "token": .string(rotated.token)]
            }
        }
        admin.delete("virtual-keys/:id") { _, context in
            try await respond(.noContent) {
                guard try await virtualKeys().remove(try context.parameters.require("id")) else { throw Self.notFound }
                return nil
            }
        }
        // Reports.
        admin.get("usage") { request, _ in try await usage(request) }
        admin.get("decisions") { request, _ in
            try await respond {
                let limit = try Self.query(request, "limit").map { text throws(GatewayError) in
                    guard let limit = Int(text), (1...1_000).contains(limit) else { throw .invalidRequest("'limit' must be from 1 to 1000", parameter: "limit") }
                    return limit
                } ?? 50
                return .array(try await router.store.decisionSamples(limit: limit).map(AdminJSON.decision))
            }
        }
    }

    // MARK: Handlers

    private func keyViews() async throws -> [JSONValue] {
        var views: [JSONValue] = []
        for id in await router.keyIDs.sorted() { views.append(try await keyView(id)) }
        return views
    }

    private func keyView(_ id: KeyID) async throws -> JSONValue {
        AdminJSON.key(id, settings: try await router.settings(of: id), quota: try await router.quota(of: id))
    }

    private func addKey(_ request: Request) async throws -> JSONValue {
        let key = try AdminRequests.key(try await object(request))
        // register() adopts the same key again (replicas start with the same list); an
        // operator adding a key whose id is taken is told so.
        guard await !router.keyIDs.contains(key.id) else {
            throw GatewayError(.conflict, type: "invalid_request_error", code: "duplicate_key", "a key with id '\(key.id)' exists", parameter: "id")
        }
        guard await router.catalog.providers[key.settings.provider] != nil else {
            throw GatewayError(.notFound, type: "invalid_request_error", code: "unknown_provider", "the catalog has no provider '\(key.settings.provider)'", parameter: "provider")
        }
        try await router.register(key)
        return try await keyView(key.id)
    }

    private func createVirtualKey(_ request: Request) async throws -> JSONValue {
        let (spec, budget) = try AdminRequests.virtualKey(try await object(request))
        let (key, token) = try await virtualKeys().create(spec)
        var json: [String: JSONValue] = ["key": AdminJSON.virtualKey(key), "token": .string(token)]
        if let budget {
            // The key's own budget: on the tag every one of its requests carries.
            let made = Budget(id: BudgetID("vkey-\(key.id)"), scope: .tag(key.ownTag), period: budget.period, limit: budget.limit)
            do {
                try await router.setBudget(made)
            } catch {
                // Without its budget the key is not what was asked for, and its token would be
                // lost with this error: take it back.
                _ = try? await virtualKeys().remove(key.id)
                throw error
            }
            json["budget"] = AdminJSON.budget(try await router.budgetStatus(made.id))
        }
        return .object(json)
    }

    /// `GET /admin/usage?group_by=key|provider|model|tag|total&from=…&to=…&format=json|csv`:
    /// requests, tokens and cost per group over the period (`from`/`to` as RFC 3339 or Unix
    /// seconds; the last 24 hours by default).
    private func usage(_ request: Request) async throws -> Response {
        do {
            guard let grouping = SpendGrouping(rawValue: try Self.query(request, "group_by") ?? "model") else {
                throw GatewayError.invalidRequest("'group_by' must be key, provider, model, tag or total", parameter: "group_by")
            }
            let now = router.clock.now()
            let to = try Self.time(request, "to") ?? now
            let from = try Self.time(request, "from") ?? Timestamp(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch - 86_400 * 1_000_000_000)
            await router.flush()
            // `from` after `to` is an empty period: nothing happened in it.
            let totals = from <= to ? try await router.store.usageTotals(from: from, to: to, groupedBy: grouping) : [:]
            let report = UsageReport(from: from, to: to, grouping: grouping, totals: totals)
            switch try Self.query(request, "format") ?? "json" {
            case "json": return Gateway.response(.ok, contentType: "application/json", report.json.jsonBytes)
            case "csv": return Gateway.response(.ok, contentType: "text/csv; charset=utf-8", Array(report.csv.utf8))
            default: throw GatewayError.invalidRequest("'format' must be json or csv", parameter: "format")
            }
        } catch {
            return Self.errorResponse(error)
        }
    }

    // MARK: Helpers

    private func virtualKeys() throws(GatewayError) -> VirtualKeys {
        guard let keys = gateway.virtualKeys else {
            throw GatewayError(.conflict, type: "invalid_request_error", code: "virtual_keys_off", "virtual keys are off (GATEWAY_AUTH=none)")
        }
        return keys
    }

    private func found<T>(_ value: T?) throws(GatewayError) -> T {
        guard let value else { throw Self.notFound }
        return value
    }

    static let notFound = GatewayError(.notFound, type: "invalid_request_error", code: "not_found", "no such id")

    /// The body as a JSON object; with `optional`, an empty body is `{}`.
    private func object(_ request: Request, optional: Bool = false) async throws(GatewayError) -> JSONValue {
        let body = try await gateway.body(of: request)
        if optional, body.readableBytes == 0 { return [:] }
        return try RequestFields.object(body.readableBytesView)
    }

    /// Runs `body` and answers its JSON with `status` (no body for `nil`), or the error.
    private func respond(_ status: HTTPResponse.Status = .ok, _ body: () async throws -> JSONValue?) async throws -> Response {
        do {
            guard let json = try await body() else { return Response(status: status) }
            return Gateway.response(status, contentType: "application/json", json.jsonBytes)
        } catch {
            return Self.errorResponse(error)
        }
    }

    /// A failure as the admin API answers it.
    static func errorResponse(_ error: any Error) -> Response {
        let answer: GatewayError
        switch error {
        case let error as GatewayError: answer = error
        case let error as RouterError:
            switch error.code {
            case .unknownKey, .unknownBudget, .unknownModel: answer = GatewayError(.notFound, type: "invalid_request_error", code: error.code.description, error.message)
            case .duplicateKeyID, .versionConflict, .invalidTransition:
                answer = GatewayError(.conflict, type: "invalid_request_error", code: error.code.description, error.message)
            case .invalidArgument, .invalidLimits, .invalidPrice:
                answer = GatewayError(.badRequest, type: "invalid_request_error", code: error.code.description, error.message)
            case .storeUnreachable, .storeFailure, .shutDown:
                answer = GatewayError(.serviceUnavailable, type: "api_error", code: error.code.description, error.message)
            default: answer = GatewayError(.internalServerError, type: "api_error", code: error.code.description, error.message)
            }
        default: answer = GatewayError(.internalServerError, type: "api_error", "the request failed")
        }
        return Gateway.error(answer, as: OpenAIChatCompletionWriter.self)
    }

    private static func query(_ request: Request, _ name: String) throws(GatewayError) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }

    /// A query time (``QueryTime``); an empty value counts as absent.
    private static func time(_ request: Request, _ name: String) throws(GatewayError) -> Timestamp? {
        guard let text = try query(request, name), !text.isEmpty else { return nil }
        guard let time = QueryTime.parse(text) else {
            throw .invalidRequest("'\(name)' must be an RFC 3339 time or Unix seconds", parameter: name)
        }
        return time
    }
}
