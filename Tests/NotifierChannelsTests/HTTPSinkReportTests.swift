import AsyncHTTPClient
import Foundation
import LiaisonSinks
import Notifier
import NotifierChannels
import XCTest

/// `GET /sinks/report`: what the HTTP sink took per path and what its SMTP sink took, duplicates
/// named, as `liaison audit --sinks` reads it. (`SMTPSink` alone is this target's aiosmtpd wrapper.)
final class HTTPSinkReportTests: XCTestCase {
    private func fetchReport(_ client: HTTPClient, _ sink: HTTPSink) async throws -> SinkReport {
        let response = try await client.execute(HTTPClientRequest(url: sink.url(SinkReport.path)), timeout: .seconds(2))
        XCTAssertEqual(response.status.code, 200)
        return try JSONDecoder().decode(SinkReport.self, from: Data(try await response.body.collect(upTo: 1 << 20).readableBytesView))
    }

    func testTheReportCountsKeysDeliveriesAndDuplicatesPerPathAndTheMail() async throws {
        let mail = LiaisonSinks.SMTPSink()
        try await mail.start()
        let email = try SMTPChannel(settings: SMTPSettings(
            host: "127.0.0.1", port: mail.port, security: .plain, fromAddress: "notify@liaison.test", messageIDDomain: "liaison.test"))
        for action in ["a-1", "a-1", "a-2"] {
            let message = OutgoingMessage(
                actionID: action, idempotencyKey: "\(action)/email", channel: .email, customerID: "cust-1", address: "kunde@example.test",
                subject: "Hello", text: "Hello", locale: "en")
            guard case .accepted = await email.deliver(message) else { return XCTFail("the SMTP sink refused \(action)") }
        }
        try await withSink(HTTPSink.Configuration(servesReport: true, reportedMail: mail)) { sink, client in
            sink.script([.status(503), .ok], path: "/push")
            for key in ["s-1", "s-1", "s-2"] { _ = try await post(client, sink.url("/sms"), key: key) }
            _ = try await post(client, sink.url("/sms"))
            for _ in 0..<2 { _ = try await post(client, sink.url("/push"), key: "p-1") }
            _ = try await post(client, sink.url("/webhook"), key: "msg_1", keyHeader: "webhook-id")

            let report = try await fetchReport(client, sink)
            XCTAssertEqual(report.http.map(\.path), ["/push", "/sms", "/webhook"])
            let sms = report.http[1]
            XCTAssertEqual([sms.requests, sms.keys, sms.keysReceivedMoreThanOnce, sms.deliveries, sms.duplicates], [4, 2, 1, 3, 1])
            XCTAssertEqual(sms.duplicateKeys, ["s-1"])
            XCTAssertEqual(sms.channel, "sms")
            let push = report.http[0]
            XCTAssertEqual([push.keysReceivedMoreThanOnce, push.deliveries, push.duplicates], [1, 1, 0], "a retry after a failure is no duplicate")
            XCTAssertEqual([report.http[2].channel, "\(report.http[2].deliveries)"], ["webhook", "1"])
            XCTAssertEqual(report.mail?.taken, 3)
            XCTAssertEqual(report.mail?.distinct, 2)
            XCTAssertEqual(report.mail?.duplicateMessageIDs, mail.duplicatedMessageIDs)
            XCTAssertEqual(report.mail?.duplicateMessageIDs.count, 1)
            XCTAssertEqual(sink.requestCount, 7, "reading the report is not a request to the provider")
        }
        await mail.stop()
    }

    func testWithoutServingTheReportItsPathIsAnsweredLikeAnyOther() async throws {
        try await withSink { sink, client in
            let response = try await client.execute(HTTPClientRequest(url: sink.url(SinkReport.path)), timeout: .seconds(2))
            XCTAssertEqual(response.status.code, 200)
            XCTAssertEqual(sink.requestCount, 1)
        }
    }
}
