internal import Hummingbird

/// Records every routed request's route pattern, method, status and time to the response head
/// in ``GatewayMetrics`` (a thrown error counts with the status it becomes). Hummingbird runs
/// router middleware only for a path some route matches.
struct GatewayMetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: Int(response.status.code), since: start)
            return response
        } catch {
            record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        metrics.request(route: context.endpointPath ?? "unknown", method: request.method.rawValue, status: status, duration: ContinuousClock.now - start)
    }
}
