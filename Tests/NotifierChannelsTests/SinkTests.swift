import AsyncHTTPClient
import Foundation
import Hummingbird
import LiaisonSinks
import XCTest

final class SinkTests: XCTestCase {
    func testAPathScriptRunsInTurnAndOtherPathsFollowTheGlobalOne() async throws {
        try await withSink { sink, client in
            sink.script([.status(503, retryAfter: "1"), .ok], path: "/push")
            sink.script(.status(202))
            let statuses = try await [
                post(client, sink.url("/push")).status, post(client, sink.url("/push")).status,
                post(client, sink.url("/push")).status, post(client, sink.url("/sms")).status,
            ]
            XCTAssertEqual(statuses, [503, 200, 200, 202])
            XCTAssertEqual(sink.requests(path: "/push").count, 3)
            XCTAssertEqual(sink.requests.first?.status, 503)
        }
    }

    func testSuccessAnswersCarryAMessageIDThatARepeatedKeyGetsAgain() async throws {
        try await withSink { sink, client in
            let first = try await post(client, sink.url("/sms"), key: "k-1")
            let repeated = try await post(client, sink.url("/sms"), key: "k-1")
            let keyless = try await post(client, sink.url("/sms"))
            XCTAssertEqual(first.body, #"{"id":"msg-1"}"#)
            XCTAssertEqual(repeated.body, first.body)
            XCTAssertEqual(keyless.body, #"{"id":"msg-2"}"#)
            XCTAssertEqual(sink.messageID(forKey: "k-1"), "msg-1")
            XCTAssertEqual(sink.deliveries, 2)
            sink.reset()
            XCTAssertEqual(sink.deliveries, 0)
            XCTAssertTrue(sink.requests.isEmpty)
        }
    }

    func testAFailedAttemptIsNoDeliveryAndTheRetryIs() async throws {
        try await withSink { sink, client in
            sink.script([.status(500), .ok])
            _ = try await post(client, sink.url("/sms"), key: "k-1")
            XCTAssertEqual(sink.deliveries, 0)
            _ = try await post(client, sink.url("/sms"), key: "k-1")
            XCTAssertEqual(sink.deliveries, 1)
            XCTAssertEqual(sink.arrivals(ofKey: "k-1"), 2)
        }
    }

    func testStoppingDropsHeldRequestsPromptly() async throws {
        let sink = HTTPSink(configuration: .init(keepsRequests: false))
        try await sink.start()
        XCTAssertGreaterThan(sink.port, 0)
        sink.script(.hang)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let held = Task { try? await post(client, sink.url("/sms")) }
        while sink.requestCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let started = ContinuousClock.now
        await sink.stop()
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
        _ = await held.value
        try await client.shutdown()
        XCTAssertTrue(sink.requests.isEmpty)
        XCTAssertEqual(sink.requestCount, 1)
    }

    func testStartingOnAPortInUseFails() async throws {
        let first = HTTPSink()
        try await first.start()
        let second = HTTPSink(configuration: .init(port: first.port))
        var refused = false
        do {
            try await second.start()
            await second.stop()
        } catch {
            refused = true
        }
        await first.stop()
        XCTAssertTrue(refused, "a second sink listened on port \(first.port)")
    }
}
