import ArgumentParser
import Foundation
import LiaisonKafka
@testable import LiaisonRuntime
import XCTest

final class RuntimeOptionsTests: XCTestCase {
    private func options(_ arguments: [String]) throws -> RuntimeOptions {
        try RuntimeOptions.parse(arguments)
    }

    private func file(_ yaml: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testFlagsBeatEnvironmentWhichBeatsTheFile() throws {
        let path = try file("""
            brokers: file:9092
            batch-max-records: 10
            batch-max-wait-ms: 7
            state-dir: /from/file
            kafka:
              security.protocol: SSL
              client.id: from-file
            """)
        let settings = try options(["--config", path, "--brokers", "flag:9092", "--kafka", "client.id=from-flag"])
            .resolve(stage: "counter", defaultInputs: ["in"], environment: [
                "LIAISON_BROKERS": "env:9092", "LIAISON_BATCH_MAX_RECORDS": "20", "LIAISON_KAFKA_SASL_MECHANISM": "PLAIN",
            ])
        XCTAssertEqual(settings.brokers, "flag:9092")
        XCTAssertEqual(settings.batchMaxRecords, 20)
        XCTAssertEqual(settings.batchMaxWait, .milliseconds(7))
        XCTAssertEqual(settings.stateDirectory.path, "/from/file")
        XCTAssertEqual(settings.kafka, ["security.protocol": "SSL", "client.id": "from-flag", "sasl.mechanism": "PLAIN"])
        XCTAssertEqual(settings.groupID, "liaison-counter")
        XCTAssertEqual(settings.inputTopics, ["in"])
    }

    func testMissingBrokersSayHowToGetOne() throws {
        XCTAssertThrowsError(try options([]).resolve(stage: "s", defaultInputs: ["in"], environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("--brokers"), "\(error)")
            XCTAssertTrue("\(error)".contains("liaison dev"), "\(error)")
        }
    }

    func testABadValueNamesTheOptionAndWhereItCameFrom() throws {
        XCTAssertThrowsError(try options(["--brokers", "b:1"]).resolve(
            stage: "s", defaultInputs: ["in"], environment: ["LIAISON_BATCH_MAX_RECORDS": "lots"])
        ) { error in
            XCTAssertEqual("\(error)", "batch-max-records has an invalid value 'lots' (from LIAISON_BATCH_MAX_RECORDS); see --help for what it accepts")
        }
        XCTAssertThrowsError(try options(["--brokers", "b:1", "--admin-port", "99999"]).resolve(
            stage: "s", defaultInputs: ["in"], environment: [:])
        ) { error in
            XCTAssertTrue("\(error)".contains("--admin-port"), "\(error)")
        }
        XCTAssertThrowsError(try options(["--brokers", "b:1", "--kafka", "novalue"]).resolve(
            stage: "s", defaultInputs: ["in"], environment: [:]))
    }

    func testAFileThatIsNotAMapIsRefusedWithItsPath() throws {
        let path = try file("- just\n- a list\n")
        XCTAssertThrowsError(try options(["--config", path, "--brokers", "b:1"]).resolve(
            stage: "s", defaultInputs: ["in"], environment: [:])
        ) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }

    func testLedgerRetentionTakesADurationOrOff() throws {
        func retention(_ arguments: [String]) throws -> Duration? {
            try options(["--brokers", "b:1"] + arguments).resolve(stage: "s", defaultInputs: ["in"], environment: [:]).ledgerRetention
        }
        XCTAssertEqual(try retention([]), .seconds(7 * 86_400))
        XCTAssertEqual(try retention(["--ledger-retention", "36h"]), .seconds(36 * 3600))
        XCTAssertEqual(try retention(["--ledger-retention", "1500ms"]), .milliseconds(1500))
        XCTAssertNil(try retention(["--ledger-retention", "off"]))
        XCTAssertThrowsError(try retention(["--ledger-retention", "7 days"])) { error in
            XCTAssertTrue("\(error)".contains("ledger-retention"), "\(error)")
        }
    }

    func testAdminPortDefaultsOnAndCanBeSwitchedOff() throws {
        let on = try options(["--brokers", "b:1"]).resolve(stage: "s", defaultInputs: ["in"], environment: [:])
        XCTAssertEqual(on.adminPort, 9400)
        let off = try options(["--brokers", "b:1", "--admin-port", "off"]).resolve(stage: "s", defaultInputs: ["in"], environment: [:])
        XCTAssertNil(off.adminPort)
    }

    func testProducerNeverReceivesConsumerOnlyProperties() throws {
        let settings = try options(["--brokers", "b:1", "--kafka", "max.poll.interval.ms=10000", "--kafka", "client.id=x"])
            .resolve(stage: "s", defaultInputs: ["in"], environment: [:])
        XCTAssertNil(settings.producerProperties["max.poll.interval.ms"])
        XCTAssertEqual(settings.producerProperties["client.id"], "x")
        XCTAssertEqual(settings.consumerProperties["max.poll.interval.ms"], "10000")
        XCTAssertEqual(settings.consumerProperties["group.id"], "liaison-s")
    }

    func testJSONLogLinesEscapeWhatWouldBreakThem() {
        var line = ""
        JSONLogHandler.appendQuoted("a\"b\\c\nd\u{1}", to: &line)
        XCTAssertEqual(line, #""a\"b\\c\nd\u0001""#)
    }
}

final class RuntimeStatusTests: XCTestCase {
    func testReadyOnlyOnceAssignedAndEveryPartitionIsCaughtUp() {
        let status = RuntimeStatus(readyMaxLag: 10)
        XCTAssertEqual(status.readiness.ready, false)
        XCTAssertEqual(status.readiness.reason, "no partitions assigned")

        let first = TopicPartition(topic: "in", partition: 0)
        let second = TopicPartition(topic: "in", partition: 1)
        status.setAssigned([first, second])
        status.setLag([first: 3])
        XCTAssertEqual(status.readiness.ready, false, "a partition with no known lag is not caught up")
        XCTAssertTrue(status.readiness.reason.contains("in/1"))

        status.setLag([first: 3, second: 11])
        XCTAssertEqual(status.readiness.ready, false)
        status.setLag([first: 3, second: 10])
        XCTAssertEqual(status.readiness.ready, true)
        XCTAssertTrue(status.isAlive)
    }
}
