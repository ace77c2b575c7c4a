internal import Instrumentation
internal import Tracing

/// The router's spans, on the tracer given at init or the bootstrapped `InstrumentationSystem`
/// tracer; `nil` when that is the no-op tracer, so an app without tracing pays one branch.
///
/// Spans: `routersdk.route` (key, model, strategy, reserved cost), `routersdk.settle` and
/// `routersdk.release` (cost, tokens; include the wait for the commit), `routersdk.attempt` per
/// `execute` or `ChatClient` attempt (a client span whose context the provider request carries),
/// and `routersdk.store.batch` per batch the writer commits.
package struct RouterTracing: Sendable {
    let tracer: any Tracer

    /// The tracer to use, or `nil` when tracing is off.
    static func resolve(_ tracer: (any Tracer)?) -> RouterTracing? {
        let chosen = tracer ?? InstrumentationSystem.tracer
        if chosen is NoOpTracer { return nil }
        return RouterTracing(tracer: chosen)
    }

    /// Starts a span whose parent is the calling task's context.
    func start(_ name: String, kind: SpanKind = .internal) -> any Span {
        tracer.startSpan(name, context: ServiceContext.current ?? .topLevel, ofKind: kind)
    }

    /// Starts a span with no parent: background work such as the store writer's batches.
    func startTopLevel(_ name: String) -> any Span {
        tracer.startSpan(name, context: .topLevel, ofKind: .internal)
    }

    /// Writes the calling task's trace context into outgoing HTTP headers (W3C `traceparent`
    /// with a W3C propagator such as swift-otel's).
    package func inject(into headers: inout [(name: String, value: String)]) {
        tracer.inject(ServiceContext.current ?? .topLevel, into: &headers, using: HeaderInjector())
    }
}

/// Adds a header per propagated value.
struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout [(name: String, value: String)]) {
        headers.append((key, value))
    }
}

extension Span {
    /// Marks the span failed with `error`.
    func fail(_ error: any Error) {
        recordError(error)
        setStatus(SpanStatus(code: .error))
    }
}
