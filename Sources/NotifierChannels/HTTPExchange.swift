import AsyncHTTPClient
import Foundation
import NIOCore
import Notifier

/// One attempt against an HTTP provider, and what it means for the retry policy. Shared by the
/// provider and webhook channels, which differ only in the request they build.
struct HTTPExchange: Sendable {
    /// An answer as far as the outcome needs it.
    struct Answer: Sendable {
        var status: Int
        var reasonPhrase: String
        var retryAfter: String?
        /// The first `bodyLimit` bytes; the rest is read and dropped.
        var body: [UInt8]
    }

    /// Enough for any message id or error a provider sends; an answer is never kept whole.
    static let bodyLimit = 16 * 1_024
    /// How much of a refusal's body goes into the reason, which ends up in delivery receipts.
    static let excerptLength = 200

    let client: HTTPClient
    let provider: String
    let timeout: Duration
    let clock: @Sendable () -> Date

    /// Sends `request` and waits at most `timeout` for the whole answer. Never throws: a failure
    /// to get an answer is a retryable outcome.
    func outcome(of request: HTTPClientRequest, messageID: (_ body: [UInt8]) -> String?) async -> ProviderOutcome {
        switch await attempt(request) {
        case let .answered(answer):
            return Self.classify(answer, provider: provider, now: clock(), messageID: messageID)
        case .timedOut:
            return .retryable(reason: "\(provider) did not answer within \(Self.describe(timeout))", retryAfter: nil)
        case let .failed(error):
            return .retryable(reason: "\(provider) could not be reached: \(Self.describe(error))", retryAfter: nil)
        }
    }

    /// The outcome an answer stands for: 2xx accepted; 408, 429, 500, 502, 503 and 504
    /// retryable (the provider is busy or down, with its `Retry-After` when given); every other
    /// status rejected, since repeating the same request would get the same answer.
    static func classify(
        _ answer: Answer, provider: String, now: Date, messageID: (_ body: [UInt8]) -> String?
    ) -> ProviderOutcome {
        let status = "\(provider) answered \(answer.status) \(answer.reasonPhrase)"
        switch answer.status {
        case 200..<300:
            return .accepted(providerMessageID: messageID(answer.body))
        case 408, 429, 500, 502, 503, 504:
            return .retryable(reason: status, retryAfter: answer.retryAfter.flatMap { RetryAfter.parse($0, now: now) })
        default:
            let excerpt = excerpt(answer.body)
            return .rejected(reason: excerpt.isEmpty ? status : "\(status): \(excerpt)")
        }
    }

    /// The start of a body as one line of text, for a reason a person reads.
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(excerptLength * 4), as: UTF8.self)
        var line = ""
        var pendingSpace = false
        for character in text {
            if character.isWhitespace || character.unicodeScalars.allSatisfy({ $0.properties.generalCategory == .control }) {
                pendingSpace = !line.isEmpty
                continue
            }
            if line.count >= excerptLength { return line + "…" }
            if pendingSpace { line.append(" ") }
            pendingSpace = false
            line.append(character)
        }
        return line
    }

    /// A system error as the system words it ("Connection refused"), anything else as it
    /// describes itself.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

    static func describe(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds < 1_000 || milliseconds % 1_000 != 0 ? "\(milliseconds) ms" : "\(milliseconds / 1_000) s"
    }

    private enum Attempt: Sendable {
        case answered(Answer)
        case timedOut
        case failed(any Error)
    }

    /// The answer within `timeout`. The client's deadline covers the answer's head and, for a
    /// provider that refuses connections (which the client retries until then), gives the
    /// connection error rather than a bare timeout. The status decides the outcome, so a body
    /// still arriving when time is up is cut off, not waited for and not held against the answer.
    private func attempt(_ request: HTTPClientRequest) async -> Attempt {
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + TimeAmount(timeout))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return .timedOut
        } catch {
            return .failed(error)
        }
        let head = Answer(
            status: Int(response.status.code), reasonPhrase: response.status.reasonPhrase,
            retryAfter: response.headers.first(name: "Retry-After"), body: [])
        let body = response.body
        let remaining = timeout - (ContinuousClock.now - started)
        return await withTaskGroup(of: Answer?.self) { group in
            group.addTask {
                var answer = head
                do {
                    for try await buffer in body where answer.body.count < Self.bodyLimit {
                        answer.body.append(contentsOf: buffer.readableBytesView.prefix(Self.bodyLimit - answer.body.count))
                    }
                } catch {
                    // Cut off by the time limit or the connection: what arrived is the excerpt.
                }
                return answer
            }
            group.addTask {
                try? await Task.sleep(for: remaining)
                return nil
            }
            while let finished = await group.next() {
                guard let answer = finished else {
                    group.cancelAll()
                    continue
                }
                group.cancelAll()
                return .answered(answer)
            }
            return .answered(head)
        }
    }
}
