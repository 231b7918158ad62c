import Hummingbird
import Logging
import Prometheus

/// The endpoint orchestrators and Prometheus talk to: `/healthz` (the loop is turning),
/// `/readyz` (partitions assigned and caught up) and `/metrics`.
enum AdminServer {
    static func make(
        host: String, port: Int, status: RuntimeStatus, registry: PrometheusCollectorRegistry, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            status.isAlive
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "alive\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "processing loop stalled\n")))
        }
        router.get("readyz") { _, _ -> Response in
            let (ready, reason) = status.readiness
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                body: .init(byteBuffer: ByteBuffer(string: reason + "\n")))
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "liaison"),
            onServerRunning: { channel in
                logger.info("admin endpoint listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: logger)
    }
}
