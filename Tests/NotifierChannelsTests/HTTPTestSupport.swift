import AsyncHTTPClient
import Foundation
import LiaisonSinks
import NIOCore
import Notifier
import XCTest

/// Runs `body` with a started sink and a client, and always stops and shuts both down.
func withSink(
    _ configuration: HTTPSink.Configuration = HTTPSink.Configuration(),
    _ body: (HTTPSink, HTTPClient) async throws -> Void
) async throws {
    let sink = HTTPSink(configuration: configuration)
    try await sink.start()
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
    do {
        try await body(sink, client)
    } catch {
        try? await client.shutdown()
        await sink.stop()
        throw error
    }
    try await client.shutdown()
    await sink.stop()
}

func smsMessage(actionID: String = "act-1", address: String = "+4915112345678", subject: String? = nil) -> OutgoingMessage {
    OutgoingMessage(
        actionID: actionID, idempotencyKey: "\(actionID)|sms", channel: .sms, customerID: "cust-7", address: address,
        subject: subject, text: "Your flight leaves at 07:05.", locale: "en-GB",
        metadata: ["rule": "departure-reminder", "template": "departure.sms"])
}

/// A fixed wall clock: `Sun, 06 Nov 1994 08:49:37 GMT`.
let fixedNow = Date(timeIntervalSince1970: 784_111_777)

func assertRetryable(
    _ outcome: ProviderOutcome, reasonPrefix: String, retryAfter: Duration? = nil, file: StaticString = #filePath, line: UInt = #line
) {
    guard case let .retryable(reason, after) = outcome else {
        return XCTFail("expected a retryable outcome, got \(outcome)", file: file, line: line)
    }
    XCTAssertTrue(reason.hasPrefix(reasonPrefix), "reason \"\(reason)\" does not start with \"\(reasonPrefix)\"", file: file, line: line)
    XCTAssertEqual(after, retryAfter, file: file, line: line)
}

/// Posts `{}` to the sink, with an idempotency key in `keyHeader` when given.
func post(
    _ client: HTTPClient, _ url: String, key: String? = nil, keyHeader: String = "Idempotency-Key"
) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    if let key { request.headers.add(name: keyHeader, value: key) }
    request.body = .bytes(ByteBuffer(string: "{}"))
    let response = try await client.execute(request, timeout: .seconds(2))
    let body = try await response.body.collect(upTo: 1 << 16)
    return (Int(response.status.code), String(buffer: body))
}
