import AsyncHTTPClient
import Foundation
import LiaisonSinks
import Notifier
import NotifierChannels
import XCTest

final class HTTPProviderChannelTests: XCTestCase {
    private func settings(
        _ sink: HTTPSink, path: String = "/sms", timeout: Duration = .milliseconds(500), messageIDField: String? = "id"
    ) -> HTTPProviderSettings {
        HTTPProviderSettings(
            name: "sms-gateway", url: sink.url(path), headers: ["Authorization": "Bearer test-token"],
            body: [
                "to": "address", "message.text": "text", "message.title": "subject", "ref": "metadata.rule",
                "from": "literal:Liaison",
            ],
            messageIDField: messageIDField, timeout: timeout)
    }

    func testTheBodyHasTheConfiguredShapeAndTheProviderIDIsKept() async throws {
        try await withSink { sink, client in
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            let outcome = await channel.deliver(smsMessage(subject: "Flight"))
            XCTAssertEqual(outcome, .accepted(providerMessageID: "msg-1"))
            let request = try XCTUnwrap(sink.requests(path: "/sms").first)
            XCTAssertEqual(request.method, "POST")
            XCTAssertEqual(
                request.bodyText,
                #"{"from":"Liaison","message":{"text":"Your flight leaves at 07:05.","title":"Flight"},"#
                    + #""ref":"departure-reminder","to":"+4915112345678"}"#)
            XCTAssertEqual(request.header("idempotency-key"), "act-1|sms")
            XCTAssertEqual(request.header("Authorization"), "Bearer test-token")
            XCTAssertEqual(request.header("Content-Type"), "application/json")
        }
    }

    func testAnAbsentSubjectLeavesItsMemberOut() async throws {
        try await withSink { sink, client in
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            _ = await channel.deliver(smsMessage(subject: nil))
            XCTAssertEqual(
                sink.requests.first?.bodyText,
                #"{"from":"Liaison","message":{"text":"Your flight leaves at 07:05."},"ref":"departure-reminder","to":"+4915112345678"}"#)
        }
    }

    func testANestedMessageIDIsFoundByItsPath() async throws {
        try await withSink { sink, client in
            sink.script(.status(201, body: #"{"messages":[{"id":"SM-42","status":"queued"}]}"#))
            let channel = try HTTPProviderChannel(settings: settings(sink, messageIDField: "messages.0.id"), client: client)
            let outcome = await channel.deliver(smsMessage())
            XCTAssertEqual(outcome, .accepted(providerMessageID: "SM-42"))
        }
    }

    func testA503WithRetryAfterSecondsIsRetryableAfterThatLong() async throws {
        try await withSink { sink, client in
            sink.script(.status(503, retryAfter: "2"))
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            let outcome = await channel.deliver(smsMessage())
            XCTAssertEqual(outcome, .retryable(reason: "sms-gateway answered 503 Service Unavailable", retryAfter: .seconds(2)))
        }
    }

    func testA429WithAnHTTPDateIsRetryableUntilThatDate() async throws {
        try await withSink { sink, client in
            sink.script(.status(429, retryAfter: "Sun, 06 Nov 1994 08:50:07 GMT"))
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client, clock: { fixedNow })
            let outcome = await channel.deliver(smsMessage())
            XCTAssertEqual(outcome, .retryable(reason: "sms-gateway answered 429 Too Many Requests", retryAfter: .seconds(30)))
        }
    }

    func testServerErrorsAreRetryableExceptNotImplemented() async throws {
        try await withSink { sink, client in
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            for status in [408, 500, 502, 504] {
                sink.script(.status(status))
                assertRetryable(await channel.deliver(smsMessage()), reasonPrefix: "sms-gateway answered \(status) ")
            }
            sink.script(.status(501))
            let notImplemented = await channel.deliver(smsMessage())
            XCTAssertEqual(
                notImplemented, .rejected(reason: #"sms-gateway answered 501 Not Implemented: {"error":"scripted 501"}"#))
        }
    }

    func testA400IsRejectedWithAnExcerptOfTheAnswer() async throws {
        try await withSink { sink, client in
            sink.script(.status(400, body: "{\"error\":\"invalid phone number\",\n  \"code\": 21211}"))
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            let outcome = await channel.deliver(smsMessage(address: "12"))
            XCTAssertEqual(
                outcome, .rejected(reason: #"sms-gateway answered 400 Bad Request: {"error":"invalid phone number", "code": 21211}"#))
        }
    }

    func testALongRefusalIsCutShort() async throws {
        try await withSink { sink, client in
            sink.script(.status(422, body: String(repeating: "x", count: 5_000)))
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            guard case let .rejected(reason) = await channel.deliver(smsMessage()) else { return XCTFail("not rejected") }
            XCTAssertTrue(reason.hasPrefix("sms-gateway answered 422 Unprocessable Entity: xxx"))
            XCTAssertLessThan(reason.count, 300)
        }
    }

    func testASlowProviderIsRetryableWithinAboutTheTimeout() async throws {
        try await withSink { sink, client in
            sink.script(.slow(.seconds(3)))
            let channel = try HTTPProviderChannel(settings: settings(sink, timeout: .milliseconds(300)), client: client)
            let started = ContinuousClock.now
            let outcome = await channel.deliver(smsMessage())
            let elapsed = ContinuousClock.now - started
            XCTAssertEqual(outcome, .retryable(reason: "sms-gateway did not answer within 300 ms", retryAfter: nil))
            XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(290))
            XCTAssertLessThan(elapsed, .milliseconds(1_500))
        }
    }

    func testAProviderThatNeverAnswersIsRetryableWithinAboutTheTimeout() async throws {
        try await withSink { sink, client in
            sink.script(.hang)
            let channel = try HTTPProviderChannel(settings: settings(sink, timeout: .milliseconds(300)), client: client)
            let started = ContinuousClock.now
            let outcome = await channel.deliver(smsMessage())
            XCTAssertEqual(outcome, .retryable(reason: "sms-gateway did not answer within 300 ms", retryAfter: nil))
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1_500))
        }
    }

    func testAnAnswerWhoseBodyNeverEndsIsJudgedByItsStatus() async throws {
        try await withSink { sink, client in
            let channel = try HTTPProviderChannel(settings: settings(sink, timeout: .milliseconds(300)), client: client)
            sink.script(SinkReply(status: 200, holdsBodyOpen: true))
            let started = ContinuousClock.now
            let accepted = await channel.deliver(smsMessage())
            XCTAssertEqual(accepted, .accepted(providerMessageID: "msg-1"))
            XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1_500))
            sink.script(SinkReply(status: 400, holdsBodyOpen: true, body: "invalid number"))
            let rejected = await channel.deliver(smsMessage(actionID: "act-2"))
            XCTAssertEqual(rejected, .rejected(reason: "sms-gateway answered 400 Bad Request: invalid number"))
        }
    }

    func testNothingListeningIsRetryable() async throws {
        let closed = HTTPSink()
        try await closed.start()
        let url = closed.url("/sms")
        await closed.stop()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        let channel = try HTTPProviderChannel(
            settings: HTTPProviderSettings(name: "sms-gateway", url: url, body: ["to": "address"], timeout: .milliseconds(500)),
            client: client)
        let outcome = await channel.deliver(smsMessage())
        try await client.shutdown()
        XCTAssertEqual(outcome, .retryable(reason: "sms-gateway could not be reached: Connection refused", retryAfter: nil))
    }

    func testTheSameIdempotencyKeyTwiceIsOneMessageWithOneID() async throws {
        try await withSink { sink, client in
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            let first = await channel.deliver(smsMessage())
            let second = await channel.deliver(smsMessage())
            let other = await channel.deliver(smsMessage(actionID: "act-2"))
            XCTAssertEqual(first, .accepted(providerMessageID: "msg-1"))
            XCTAssertEqual(second, first)
            XCTAssertEqual(other, .accepted(providerMessageID: "msg-2"))
            XCTAssertEqual(sink.arrivals(ofKey: "act-1|sms"), 2)
            XCTAssertEqual(sink.deliveries, 2)
            XCTAssertEqual(sink.requestCount, 3)
        }
    }

    func testARetriedMessageIsDeliveredOnceTheProviderRecovers() async throws {
        try await withSink { sink, client in
            sink.script([.status(503), .status(503), .ok], path: "/sms")
            let channel = try HTTPProviderChannel(settings: settings(sink), client: client)
            var outcomes: [ProviderOutcome] = []
            for _ in 0..<4 { outcomes.append(await channel.deliver(smsMessage())) }
            assertRetryable(outcomes[0], reasonPrefix: "sms-gateway answered 503")
            assertRetryable(outcomes[1], reasonPrefix: "sms-gateway answered 503")
            XCTAssertEqual(outcomes[2], .accepted(providerMessageID: "msg-1"))
            XCTAssertEqual(outcomes[3], .accepted(providerMessageID: "msg-1"))
            XCTAssertEqual(sink.requests.map(\.status), [503, 503, 200, 200])
            XCTAssertEqual(sink.deliveries, 1)
        }
    }

    func testSettingsErrorsSayWhatToFix() throws {
        func error(_ settings: HTTPProviderSettings) -> ChannelSettingsError? {
            do {
                try settings.validate()
                return nil
            } catch {
                return error
            }
        }
        let base = HTTPProviderSettings(name: "sms-gateway", url: "https://sms.example.com/v1/messages", body: ["to": "address"])
        XCTAssertNil(error(base))

        var typo = base
        typo.body = ["to": "adress"]
        let typoError = try XCTUnwrap(error(typo))
        XCTAssertEqual(typoError.setting, "body.to")
        XCTAssertTrue(typoError.description.hasPrefix(#"sms-gateway: body.to: "adress" is not a message field; use one of actionID, address"#))

        var badURL = base
        badURL.url = "sms.example.com/v1"
        XCTAssertEqual(error(badURL)?.setting, "url")

        var clash = base
        clash.body = ["message": "text", "message.title": "subject"]
        XCTAssertEqual(
            error(clash)?.description,
            "sms-gateway: body.message: it is given a value and also holds message.title; keep one of the two")

        var emptySegment = base
        emptySegment.body = ["message..text": "text"]
        XCTAssertEqual(error(emptySegment)?.setting, "body.message..text")

        var method = base
        method.method = "GET"
        XCTAssertEqual(error(method)?.setting, "method")

        var header = base
        header.headers = ["X-Key": "secret\r\nInjected: yes"]
        XCTAssertEqual(error(header)?.setting, "headers.X-Key")

        var timeout = base
        timeout.timeout = .zero
        XCTAssertEqual(error(timeout)?.setting, "timeout")
    }
}
