import AsyncHTTPClient
import Foundation
import Hummingbird
import LiaisonSchema
import LiaisonSinks
import Notifier
import NotifierChannels
import XCTest

final class WebhookChannelTests: XCTestCase {
    private let secret = "whsec_bGlhaXNvbiB0ZXN0IHdlYmhvb2sga2V5LCAzMiBiISE="

    /// A sink that checks every request's signature as a customer's endpoint would.
    private func verifyingSink(secret: String, now: Date = fixedNow) throws -> HTTPSink.Configuration {
        let signature = try XCTUnwrap(WebhookSignature(secret: secret))
        return HTTPSink.Configuration(signatureCheck: { request in
            do {
                try signature.verify(
                    id: request.header("webhook-id"), timestamp: request.header("webhook-timestamp"),
                    signatures: request.header("webhook-signature"), body: request.body, now: now)
                return true
            } catch {
                return false
            }
        })
    }

    private func message() -> OutgoingMessage {
        OutgoingMessage(
            actionID: "act-9", idempotencyKey: "act-9|webhook", channel: .webhook, customerID: "cust-7", address: "crm-hook",
            subject: "Balance low", text: "Your balance is below €50.", locale: "de-DE",
            metadata: ["template": "balance.low", "rule": "low-balance"])
    }

    func testASignedEventVerifiesAtTheEndpoint() async throws {
        try await withSink(try verifyingSink(secret: secret)) { sink, client in
            let channel = try WebhookChannel(
                settings: WebhookSettings(name: "crm-hook", url: sink.url("/hooks/liaison"), secret: secret, timeout: .milliseconds(500)),
                client: client, clock: { fixedNow })
            let outcome = await channel.deliver(message())
            XCTAssertEqual(outcome, .accepted(providerMessageID: nil))
            XCTAssertEqual(sink.badSignatures, 0)
            XCTAssertEqual(sink.deliveries, 1)
            let request = try XCTUnwrap(sink.requests.first)
            XCTAssertEqual(request.signatureValid, true)
            XCTAssertEqual(request.header("webhook-id"), "act-9|webhook")
            XCTAssertEqual(request.header("webhook-timestamp"), "784111777")
            XCTAssertEqual(request.header("content-type"), "application/json")
            XCTAssertTrue(request.header("webhook-signature")?.hasPrefix("v1,") == true)
            XCTAssertEqual(
                request.bodyText,
                #"{"type":"liaison.delivery","timestamp":"1994-11-06T08:49:37.000Z","data":{"actionId":"act-9","#
                    + #""customerId":"cust-7","subject":"Balance low","text":"Your balance is below €50.","locale":"de-DE","#
                    + #""metadata":{"rule":"low-balance","template":"balance.low"}}}"#)
        }
    }

    func testATamperedBodyFailsVerification() async throws {
        try await withSink(try verifyingSink(secret: secret)) { sink, client in
            let channel = try WebhookChannel(
                settings: WebhookSettings(name: "crm-hook", url: sink.url("/hooks/liaison"), secret: secret), client: client,
                clock: { fixedNow })
            _ = await channel.deliver(message())
            let signed = try XCTUnwrap(sink.requests.first)
            let tamperedBody = Array(signed.bodyText.replacingOccurrences(of: "€50", with: "€5000").utf8)
            let signature = try XCTUnwrap(WebhookSignature(secret: secret))
            XCTAssertThrowsError(
                try signature.verify(
                    id: signed.header("webhook-id"), timestamp: signed.header("webhook-timestamp"),
                    signatures: signed.header("webhook-signature"), body: tamperedBody, now: fixedNow)
            ) { error in
                XCTAssertEqual(error as? WebhookVerificationError, .noMatchingSignature)
            }

            var forged = HTTPClientRequest(url: sink.url("/hooks/liaison"))
            forged.method = .POST
            for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
                forged.headers.add(name: name, value: signed.header(name) ?? "")
            }
            forged.body = .bytes(ByteBuffer(bytes: tamperedBody))
            let response = try await client.execute(forged, timeout: .seconds(2))
            XCTAssertEqual(response.status.code, 401)
            XCTAssertEqual(sink.badSignatures, 1)
            XCTAssertEqual(sink.deliveries, 1)
        }
    }

    func testTheWrongSecretIsRefusedByTheEndpoint() async throws {
        try await withSink(try verifyingSink(secret: WebhookSignature.generateSecret())) { sink, client in
            let channel = try WebhookChannel(
                settings: WebhookSettings(name: "crm-hook", url: sink.url("/hooks/liaison"), secret: secret), client: client,
                clock: { fixedNow })
            let outcome = await channel.deliver(message())
            XCTAssertEqual(outcome, .rejected(reason: #"crm-hook answered 401 Unauthorized: {"error":"bad signature"}"#))
            XCTAssertEqual(sink.badSignatures, 1)
            XCTAssertEqual(sink.deliveries, 0)
        }
    }

    func testAnEndpointThatIsDownIsRetryable() async throws {
        try await withSink { sink, client in
            sink.script(.status(503, retryAfter: "5"))
            let channel = try WebhookChannel(
                settings: WebhookSettings(name: "crm-hook", url: sink.url("/hooks/liaison"), secret: secret), client: client)
            let outcome = await channel.deliver(message())
            XCTAssertEqual(outcome, .retryable(reason: "crm-hook answered 503 Service Unavailable", retryAfter: .seconds(5)))
        }
    }

    func testVerificationRefusesOldTimestampsAndMissingHeaders() throws {
        let signature = try XCTUnwrap(WebhookSignature(secret: secret))
        let body = Array(#"{"type":"liaison.delivery"}"#.utf8)
        let value = signature.signature(id: "msg-1", timestamp: 784_111_777, body: body)

        XCTAssertNoThrow(
            try signature.verify(id: "msg-1", timestamp: "784111777", signatures: "v1,bm90IGl0 \(value)", body: body, now: fixedNow))
        XCTAssertThrowsError(
            try signature.verify(
                id: "msg-1", timestamp: "784111777", signatures: value, body: body, now: fixedNow.addingTimeInterval(301))
        ) { XCTAssertEqual($0 as? WebhookVerificationError, .timestampOutOfTolerance(784_111_777)) }
        XCTAssertThrowsError(try signature.verify(id: "msg-2", timestamp: "784111777", signatures: value, body: body, now: fixedNow)) {
            XCTAssertEqual($0 as? WebhookVerificationError, .noMatchingSignature)
        }
        XCTAssertThrowsError(try signature.verify(id: "msg-1", timestamp: nil, signatures: value, body: body, now: fixedNow)) {
            XCTAssertEqual($0 as? WebhookVerificationError, .missingHeader("webhook-timestamp"))
        }
        XCTAssertThrowsError(try signature.verify(id: "msg-1", timestamp: "soon", signatures: value, body: body, now: fixedNow)) {
            XCTAssertEqual($0 as? WebhookVerificationError, .invalidTimestamp("soon"))
        }
    }

    func testTheSignatureIsHMACSHA256OfIDTimestampAndBody() throws {
        let key = Array("a shared secret of some length!!".utf8)
        let signature = try XCTUnwrap(WebhookSignature(secret: "whsec_" + Data(key).base64EncodedString()))
        let body = Array(#"{"a":1}"#.utf8)
        // Computed independently: printf 'id-1.1700000000.{"a":1}' | openssl dgst -sha256 -hmac '<key>' -binary | base64
        XCTAssertEqual(signature.signature(id: "id-1", timestamp: 1_700_000_000, body: body), "v1,W1m818HCYXi223Vtj3T8zML0ZCH8LxkRiZH3Ql8qjnM=")
    }

    func testAnInvalidSecretIsASettingsError() {
        for secret in ["bGlhaXNvbiB0ZXN0IHdlYmhvb2sga2V5LCAzMiBiISE=", "whsec_not base64!", "whsec_"] {
            XCTAssertThrowsError(try WebhookSettings(name: "crm-hook", url: "https://crm.example.com/hook", secret: secret).validate()) {
                XCTAssertEqual(($0 as? ChannelSettingsError)?.setting, "secret")
            }
        }
        XCTAssertNotNil(WebhookSignature(secret: WebhookSignature.generateSecret()))
    }
}
