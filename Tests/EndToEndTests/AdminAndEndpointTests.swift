import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LiaisonKafka
import XCTest

final class AdminAndEndpointTests: XCTestCase {
    func testTopicsAreCreatedOnceAndDescribed() throws {
        let cluster = try TestCluster()
        let admin = try KafkaAdmin(properties: cluster.properties)
        let spec = TopicSpec(name: cluster.topic("admin.created"), partitions: 3)
        XCTAssertEqual(try admin.createTopics([spec]), [spec.name: .created])
        XCTAssertEqual(try admin.createTopics([spec]), [spec.name: .alreadyExisted])
        XCTAssertEqual(try admin.partitionCount(spec.name), 3)
    }

    /// On the embedded broker: Tansu reports a partition's high watermark as the base offset of
    /// its last record batch plus one, so exact watermarks can only be checked here.
    func testWatermarksCountTheRecordsOfEachPartition() throws {
        let broker = try EmbeddedBroker()
        try broker.createTopic("watermarks", partitions: 3)
        try KafkaProducer(properties: KafkaProperties(["bootstrap.servers": broker.bootstrapServers]))
            .sendAndWait(upstreamRecords(topic: "watermarks", count: 30, customers: 3))
        let admin = try KafkaAdmin(properties: KafkaProperties(["bootstrap.servers": broker.bootstrapServers]))
        let highs = try (0..<3).map { try admin.watermarks(TopicPartition(topic: "watermarks", partition: $0)).high }
        XCTAssertEqual(highs.reduce(0, +), 30)
        XCTAssertEqual(try admin.partitionCount("watermarks"), 3)
    }

    func testTheStageReportsHealthReadinessAndMetricsOverHTTP() throws {
        let cluster = try TestCluster()
        let state = StateDirectory()
        defer { state.remove() }
        let (input, output, dlq) = (cluster.topic("http.in"), cluster.topic("http.out"), cluster.topic("http.dlq"))
        try cluster.createTopics([TopicSpec(name: input, partitions: 2), TopicSpec(name: output, partitions: 1), TopicSpec(name: dlq, partitions: 1)])
        try cluster.produce(upstreamRecords(topic: input, count: 1_000, customers: 10))
        try FileManager.default.createDirectory(at: state.url, withIntermediateDirectories: true)

        let port = try freePort()
        var arguments = [
            "--brokers", cluster.brokers, "--input", input, "--output", output, "--dlq-topic", dlq,
            "--state-dir", state.url.path, "--admin-port", String(port), "--admin-host", "127.0.0.1", "--ready-max-lag", "10",
        ]
        for (key, value) in TestCluster.groupProperties { arguments += ["--kafka", "\(key)=\(value)"] }
        let stage = try StageProcess(executable: "liaison-counter", arguments: arguments, logURL: state.url.appendingPathComponent("stage.log"))
        defer {
            stage.kill(SIGTERM)
            stage.waitForExit()
        }

        XCTAssertTrue(eventually(timeout: 30) { get(port, "healthz")?.status == 200 }, stage.logTail)
        XCTAssertTrue(eventually(timeout: 60) { get(port, "readyz")?.status == 200 }, stage.logTail)
        XCTAssertTrue(eventually(timeout: 30) {
            let metrics = get(port, "metrics")?.body ?? ""
            let processed = metrics.split(separator: "\n")
                .filter { $0.hasPrefix("liaison_records_in_total{") && $0.contains(input) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
                .reduce(0, +)
            return processed == 1_000 && metrics.contains("liaison_consumer_lag") && metrics.contains("liaison_batch_duration_seconds_bucket")
        }, get(port, "metrics")?.body ?? "no metrics")
    }

    private func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(socket, raw, length) == 0, getsockname(socket, raw, &length) == 0 else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func get(_ port: Int, _ path: String) -> (status: Int, body: String)? {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, String)?
        let task = URLSession.shared.dataTask(with: URL(string: "http://127.0.0.1:\(port)/\(path)")!) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                result = (response.statusCode, String(decoding: data ?? Data(), as: UTF8.self))
            }
            semaphore.signal()
        }
        task.resume()
        _ = semaphore.wait(timeout: .now() + 5)
        return result
    }
}
