import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A stand-in mail relay: a real SMTP server (RFC 5321) on a local port that records what the
/// email channel sends and answers its messages as scripted, so tests and the demo exercise the
/// notifier's real SMTP conversation without a relay or a Python server.
///
/// It speaks plain SMTP only (no STARTTLS): the notifier reaches it with `security: plain`.
/// The notifier gives every attempt at one action the same Message-ID, so a Message-ID the sink
/// has already taken is a message the customer would have received twice; `duplicateCount`
/// counts those.
public final class SMTPSink: Sendable {
    public struct Configuration: Sendable {
        /// 0 picks a free port; `port` tells which after `start()`.
        public var port: Int
        /// The address listened on: loopback for tests, `0.0.0.0` in a container.
        public var host: String
        /// Whether messages are kept for `messages`. A long run turns this off so memory stays
        /// flat; counts are kept either way.
        public var keepsMessages: Bool
        /// Announced in EHLO's SIZE; larger messages are refused with 552.
        public var maximumMessageSize: Int
        /// Offers AUTH PLAIN and LOGIN and accepts any credentials, for a notifier configured with
        /// a user name and password; `ReceivedMail.authenticatedUser` tells who it claimed to be.
        public var acceptsAuth: Bool

        public init(
            port: Int = 0, host: String = "127.0.0.1", keepsMessages: Bool = true, maximumMessageSize: Int = 10 << 20,
            acceptsAuth: Bool = false
        ) {
            self.port = port
            self.host = host
            self.keepsMessages = keepsMessages
            self.maximumMessageSize = maximumMessageSize
            self.acceptsAuth = acceptsAuth
        }
    }

    /// Why `start()` failed.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private struct Records {
        var messages: [ReceivedMail] = []
        var messageCount = 0
        var acceptedCount = 0
        var duplicateCount = 0
        var messageIDs: Set<String> = []
        var duplicatedMessageIDs: [String] = []
    }

    private struct Lifecycle {
        var port = 0
        var server: Task<Void, Never>?
    }

    public let configuration: Configuration
    private let records = Mutex(Records())
    /// The replies still to give, first first; an empty script accepts.
    private let replies = Mutex<[SMTPSinkReply]>([])
    private let lifecycle = Mutex(Lifecycle())

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: Running

    /// Binds and returns once connections are accepted; throws `StartError` naming the address
    /// when it cannot listen (the port is taken, the host is not an address of this machine).
    public func start() async throws {
        let host = configuration.host
        let port = configuration.port
        guard lifecycle.withLock({ $0.server == nil }) else {
            throw StartError(description: "the SMTP sink is already listening on \(host):\(self.port)")
        }
        let listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw StartError(description: "the SMTP sink cannot listen on \(host):\(port): \(Self.describe(error))")
        }
        let server = Task { await self.accept(on: listener) }
        lifecycle.withLock {
            $0.port = listener.channel.localAddress?.port ?? 0
            $0.server = server
        }
    }

    /// Stops listening and closes every connection, stalled replies unsent; returns once all
    /// are closed. Records stay readable.
    public func stop() async {
        let server = lifecycle.withLock { lifecycle in
            defer { lifecycle.server = nil }
            return lifecycle.server
        }
        server?.cancel()
        await server?.value
    }

    /// The port listened on; 0 before `start()`.
    public var port: Int { lifecycle.withLock { $0.port } }

    // MARK: Scripting

    /// Answers the next messages' data with `replies` in turn, then accepts again. Replaces what
    /// is left of an earlier script.
    public func script(_ replies: [SMTPSinkReply]) {
        self.replies.withLock { $0 = replies }
    }

    // MARK: What arrived

    /// Every message taken (answered 250, or stalled), duplicates included, in order of arrival;
    /// empty when `keepsMessages` is off. Messages answered 451 or 554 are not here.
    public var messages: [ReceivedMail] { records.withLock { $0.messages } }

    /// Messages taken, duplicates included.
    public var messageCount: Int { records.withLock { $0.messageCount } }

    /// Distinct messages taken: one per Message-ID, and each message without one. What the
    /// customers would have received.
    public var acceptedCount: Int { records.withLock { $0.acceptedCount } }

    /// Messages taken whose Message-ID had been taken before: what a customer received twice.
    public var duplicateCount: Int { records.withLock { $0.duplicateCount } }

    /// The Message-IDs taken more than once, in order of their first duplicate.
    public var duplicatedMessageIDs: [String] { records.withLock { $0.duplicatedMessageIDs } }

    /// The counts as the HTTP sink's report carries them.
    public var report: SinkReport.Mail {
        records.withLock {
            SinkReport.Mail(
                taken: $0.messageCount, distinct: $0.acceptedCount, duplicates: $0.duplicateCount, duplicateMessageIDs: $0.duplicatedMessageIDs)
        }
    }

    /// Forgets every message and count; the script stays.
    public func reset() {
        records.withLock { $0 = Records() }
    }

    // MARK: Serving

    private func accept(on listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) async {
        // Cancelling the task (stop) ends the accept loop and, through the task group, every
        // connection's read loop; `executeThenClose` then closes the sockets.
        await withDiscardingTaskGroup { group in
            try? await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// One connection: the session decides every reply; only the script and the records are
    /// the sink's. Replies to pipelined commands go out together.
    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var session = SMTPSinkSession(maximumMessageSize: configuration.maximumMessageSize, acceptsAuth: configuration.acceptsAuth)
            try await outbound.write(ByteBuffer(string: session.greeting))
            for try await chunk in inbound {
                var pending = ""
                for event in session.consume(chunk.readableBytesView) {
                    switch event {
                    case .reply(let reply):
                        pending += reply
                    case .message(let envelope):
                        let (reply, delay) = answer(envelope)
                        if delay > .zero {
                            // What came before goes out now; only this reply is held.
                            if !pending.isEmpty { try await outbound.write(ByteBuffer(string: pending)) }
                            pending = ""
                            try await Task.sleep(for: delay)
                        }
                        pending += reply
                    case .close:
                        try await outbound.write(ByteBuffer(string: pending))
                        return
                    }
                }
                if !pending.isEmpty {
                    try await outbound.write(ByteBuffer(string: pending))
                }
            }
        }
    }

    /// The reply to a message's data and how long to hold it, by the script; a message taken
    /// (accepted or stalled) is recorded before the wait, as a relay stores it before answering.
    private func answer(_ envelope: SMTPSinkSession.Envelope) -> (reply: String, delay: Duration) {
        let scripted = replies.withLock { $0.isEmpty ? SMTPSinkReply.accept : $0.removeFirst() }
        let delay: Duration
        switch scripted {
        case .tempFail:
            return ("451 4.3.0 Temporary failure, try again later (scripted)\r\n", .zero)
        case .reject:
            return ("554 5.6.0 Message rejected (scripted)\r\n", .zero)
        case .accept:
            delay = .zero
        case .stall(let stall):
            delay = stall
        }
        var mail = ReceivedMail(
            from: envelope.from, recipients: envelope.recipients, data: String(decoding: envelope.data, as: UTF8.self),
            authenticatedUser: envelope.authenticatedUser)
        let keepsMessages = configuration.keepsMessages
        let queueID = records.withLock { records in
            records.messageCount += 1
            let queueID = "LS\(records.messageCount)"
            if let id = mail.messageID, !records.messageIDs.insert(id).inserted {
                records.duplicateCount += 1
                if !records.duplicatedMessageIDs.contains(id) { records.duplicatedMessageIDs.append(id) }
            } else {
                records.acceptedCount += 1
            }
            mail.queueID = queueID
            if keepsMessages { records.messages.append(mail) }
            return queueID
        }
        return ("250 2.0.0 Ok: queued as \(queueID)\r\n", delay)
    }

    /// NIO's bind errors name the system call; an operator wants the cause.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return String(describing: error)
    }
}
