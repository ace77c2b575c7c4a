internal import HTTPTypes
internal import Hummingbird
internal import RouterSDK

/// Lets a request through to `/admin` only with `Authorization: Bearer <admin token>` (or the
/// token as a `token` cookie, so a browser can open an admin page), compared in constant time.
/// Without an admin token configured, those routes do not exist (404).
struct AdminTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// The configured token's bytes; `nil` when the admin API is off.
    let token: [UInt8]?

    init(token: Secret?) {
        self.token = token?.withPlaintext { Array($0.utf8) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else { return Response(status: .notFound) }
        guard let presented = Self.presented(in: request), Self.constantTimeEquals(Array(presented.utf8), token) else {
            let error = GatewayError(.unauthorized, type: "invalid_request_error", code: "invalid_admin_token", "the admin token is missing or wrong")
            var response = Gateway.error(error, as: OpenAIChatCompletionWriter.self)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    /// The bearer token, or the `token` cookie.
    static func presented(in request: Request) -> String? {
        if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            return String(authorization.dropFirst("bearer ".count))
        }
        for cookie in request.headers[values: .cookie].flatMap({ $0.split(separator: ";") }) {
            let pair = cookie.trimmingPrefix(" ").split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == "token" { return String(pair[1]) }
        }
        return nil
    }

    /// Equal contents, in a time that depends only on the expected token's length.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = presented.count ^ expected.count
        for index in expected.indices {
            difference |= Int((index < presented.count ? presented[index] : 0) ^ expected[index])
        }
        return difference == 0
    }
}
