import Foundation
import LiaisonStage
import LiaisonStore
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Runs one stage as a daemon: logging, metrics, the admin endpoint and the processing loop,
/// stopped gracefully on SIGTERM or SIGINT (finish the batch, checkpoint, leave the group).
public enum StageDaemon {
    public static func run<S: Stage, P: StatePersistence>(
        stage: S, persistence: P, settings: RuntimeSettings
    ) async throws where P.State == S.State {
        let registry = bootstrap(settings)
        let logger = Logger(label: "liaison.\(stage.name)")
        let runtime = try StageRuntime(stage: stage, persistence: persistence, settings: settings, logger: logger)
        try await serve(runtime, settings: settings, registry: registry, logger: logger)
    }

    /// Runs a stage with a companion service working on the partition files its loop owns (the
    /// notifier's delivery engine). The companion is made after metrics are set up.
    public static func run<S: Stage, P: StatePersistence>(
        stage: S, persistence: P, settings: RuntimeSettings, companion makeCompanion: (Logger) throws -> any StageCompanion
    ) async throws where P.State == S.State {
        let registry = bootstrap(settings)
        let logger = Logger(label: "liaison.\(stage.name)")
        let companion = try makeCompanion(logger)
        let runtime = try StageRuntime(stage: stage, persistence: persistence, settings: settings, logger: logger, companion: companion)
        try await serve(runtime, settings: settings, registry: registry, logger: logger, companion: companion)
    }

    /// Runs a stage with timers: the loop also fires what is due in the files it owns.
    public static func run<S: TimedStage, P: TimedPersistence>(
        timedStage stage: S, persistence: P, settings: RuntimeSettings
    ) async throws where P.State == S.State, P.DueItem == S.DueItem {
        let registry = bootstrap(settings)
        let logger = Logger(label: "liaison.\(stage.name)")
        let runtime = try StageRuntime(timedStage: stage, persistence: persistence, settings: settings, logger: logger)
        try await serve(runtime, settings: settings, registry: registry, logger: logger)
    }

    /// Logging and Prometheus metrics, set up before the runtime creates its series.
    private static func bootstrap(_ settings: RuntimeSettings) -> PrometheusCollectorRegistry {
        bootstrapLogging(settings)
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    private static func serve<S: Stage, P: StatePersistence>(
        _ runtime: StageRuntime<S, P>, settings: RuntimeSettings, registry: PrometheusCollectorRegistry, logger: Logger,
        companion: (any StageCompanion)? = nil
    ) async throws where P.State == S.State {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: RuntimeService(runtime: runtime), successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if let companion {
            services.append(.init(
                service: companion, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        if let port = settings.adminPort {
            let admin = AdminServer.make(host: settings.adminHost, port: port, status: runtime.status, registry: registry, logger: logger)
            services.append(.init(service: admin))
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger))
        try await group.run()
    }

    /// Sets up swift-log once per process: JSON lines for containers, text for people.
    public static func bootstrapLogging(_ settings: RuntimeSettings) {
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let format = settings.logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Bridges the blocking processing loop (one dedicated thread, as librdkafka wants) into
/// the service group, turning graceful shutdown into a stop request.
struct RuntimeService<S: Stage, P: StatePersistence>: Service where P.State == S.State {
    let runtime: StageRuntime<S, P>

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let thread = Thread {
                        do {
                            try runtime.run()
                            continuation.resume()
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                    thread.name = "liaison-processing"
                    thread.start()
                }
            } onCancel: {
                runtime.requestStop()
            }
        } onGracefulShutdown: {
            runtime.requestStop()
        }
    }
}
