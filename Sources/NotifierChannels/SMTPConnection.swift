import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Why a conversation with the relay ended before the message was accepted. The channel turns
/// each case into an outcome; the strings are written for the operator reading a receipt.
enum SMTPFailure: Error, Sendable {
    /// No TCP connection: refused, unreachable, DNS, or the connect timeout.
    case connect(String)
    /// No complete reply within the command timeout; names what was awaited.
    case timedOut(String)
    /// The server closed the connection while a reply was awaited.
    case closed(String)
    /// The TLS handshake failed, almost always over the server's certificate.
    case tls(String)
    /// The server sent something that is not an SMTP reply, or data where it must not.
    case malformed(String)
    /// The server answered with a code the conversation cannot go on from.
    case reply(SMTPReply, after: String)
    /// The channel itself refused to go on: a policy of the settings forbids it.
    case refused(String)
}

/// The channel handler of one SMTP connection: it frames the server's bytes into replies and
/// hands them to whoever waits, one at a time, since the client never pipelines.
///
/// It lives on the connection's event loop; `SMTPConnection` reaches it from async code through
/// a `NIOLoopBound`.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private let eventLoop: any EventLoop
    private var parser = SMTPReplyParser()
    private var replies = CircularBuffer<SMTPReply>()
    private var waiter: (promise: EventLoopPromise<SMTPReply>, awaited: String)?
    private var deadline: Scheduled<Void>?
    private var failure: SMTPFailure?
    private var context: ChannelHandlerContext?

    init(timeout: TimeAmount, eventLoop: any EventLoop) {
        self.timeout = timeout
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(.closed("while the connection was torn down"))
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.consume(buffer.readableBytesView) {
                if let waiter {
                    self.waiter = nil
                    deadline?.cancel()
                    waiter.promise.succeed(reply)
                } else {
                    replies.append(reply)
                }
            }
        } catch {
            fail(.malformed("the server sent \(error.description)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed(waiter.map { "while waiting for \($0.awaited)" } ?? "between commands"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            fail(.tls(Self.describeTLSError(error)))
        } else {
            fail(.closed("after a connection error (\(error))"))
        }
        context.close(promise: nil)
    }

    /// The next reply: one already received, or the one still to come within the timeout.
    /// `awaited` names it in reasons: "the greeting", "the reply to EHLO".
    func nextReply(awaiting awaited: String) -> EventLoopFuture<SMTPReply> {
        guard let context else { return eventLoop.makeFailedFuture(failure ?? .closed("while waiting for \(awaited)")) }
        if let reply = replies.popFirst() {
            return context.eventLoop.makeSucceededFuture(reply)
        }
        if let failure {
            return context.eventLoop.makeFailedFuture(failure)
        }
        let promise = context.eventLoop.makePromise(of: SMTPReply.self)
        waiter = (promise, awaited)
        armDeadline(awaiting: awaited, on: context)
        return promise.futureResult
    }

    /// Writes `bytes` and waits for the reply to them; `shownAs` names them in reasons, so
    /// that credentials never appear there.
    func send(_ bytes: [UInt8], shownAs: String) -> EventLoopFuture<SMTPReply> {
        guard let context else { return eventLoop.makeFailedFuture(failure ?? .closed("before \(shownAs) could be sent")) }
        let reply = nextReply(awaiting: "the reply to \(shownAs)")
        if failure == nil {
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        return reply
    }

    /// Puts TLS in front of this handler after the server's 220 to STARTTLS. The handshake starts
    /// at once; what is written next waits for it, and a failed handshake fails the reply awaited
    /// then with `.tls` (NIOSSL reports it through `errorCaught`).
    ///
    /// Anything the server sent after that 220 arrived unencrypted and would be read as if it
    /// came over TLS (the STARTTLS command injection of CVE-2011-0411), so it ends the
    /// conversation instead.
    func startTLS(context sslContext: NIOSSLContext, serverHostname: String?) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(failure ?? .closed("before the TLS handshake")) }
        if let failure {
            return context.eventLoop.makeFailedFuture(failure)
        }
        guard replies.isEmpty, parser.isIdle else {
            fail(.malformed("the server sent more after its 220 to STARTTLS, in clear text"))
            context.close(promise: nil)
            return context.eventLoop.makeFailedFuture(failure ?? .malformed("data after STARTTLS"))
        }
        do {
            let tls = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
            try context.pipeline.syncOperations.addHandler(tls, position: .first)
            return context.eventLoop.makeSucceededVoidFuture()
        } catch {
            fail(.tls(String(describing: error)))
            context.close(promise: nil)
            return context.eventLoop.makeFailedFuture(failure ?? .tls(String(describing: error)))
        }
    }

    private func armDeadline(awaiting awaited: String, on context: ChannelHandlerContext) {
        deadline?.cancel()
        let timeout = timeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(.timedOut("nothing from the server within \(Self.describe(timeout)) while waiting for \(awaited)"))
            self.context?.close(promise: nil)
        }
    }

    /// Keeps the first failure (a TLS error explains the close that follows it) and fails every
    /// waiter with it.
    private func fail(_ newFailure: SMTPFailure) {
        if failure == nil {
            failure = newFailure
        }
        let failure = failure ?? newFailure
        deadline?.cancel()
        deadline = nil
        if let waiter {
            self.waiter = nil
            waiter.promise.fail(failure)
        }
    }

    /// BoringSSL's errors carry an error number and the source file of the check that failed;
    /// the reason name (CERTIFICATE_VERIFY_FAILED, …) is what an operator can act on.
    private static func describeTLSError(_ error: any Error) -> String {
        let text = String(describing: error)
        let marker = "OPENSSL_internal:"
        var reasons: [String] = []
        var rest = text[...]
        while let range = rest.range(of: marker) {
            rest = rest[range.upperBound...]
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !name.isEmpty, !reasons.contains(String(name)) {
                reasons.append(String(name))
            }
        }
        return reasons.isEmpty ? text : reasons.joined(separator: ", ")
    }

    static func describe(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}

/// One TCP connection to the relay, used by one conversation from async code.
struct SMTPConnection: Sendable {
    private let channel: any Channel
    private let handler: NIOLoopBound<SMTPReplyHandler>

    static func open(
        host: String, port: Int, group: any EventLoopGroup, connectTimeout: TimeAmount, commandTimeout: TimeAmount
    ) async throws -> SMTPConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(timeout: commandTimeout, eventLoop: channel.eventLoop))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw SMTPFailure.connect(describeConnectError(error))
        }
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return SMTPConnection(channel: channel, handler: handler)
        } catch {
            channel.close(promise: nil)
            throw SMTPFailure.closed("before the greeting (\(error))")
        }
    }

    func reply(awaiting awaited: String) async throws -> SMTPReply {
        let handler = handler
        return try await channel.eventLoop.flatSubmit { handler.value.nextReply(awaiting: awaited) }.get()
    }

    /// Sends one command line; `shownAs` replaces it in reasons when it carries secrets.
    func command(_ line: String, shownAs: String? = nil) async throws -> SMTPReply {
        try await send(Array((line + "\r\n").utf8), shownAs: shownAs ?? line)
    }

    func send(_ bytes: [UInt8], shownAs: String) async throws -> SMTPReply {
        let handler = handler
        return try await channel.eventLoop.flatSubmit { handler.value.send(bytes, shownAs: shownAs) }.get()
    }

    func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let handler = handler
        try await channel.eventLoop.flatSubmit { handler.value.startTLS(context: context, serverHostname: serverHostname) }.get()
    }

    func close() {
        channel.close(promise: nil)
    }

    /// NIO's connection error lists every address tried; operators want the cause.
    private static func describeConnectError(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return "the name did not resolve (\(dns))"
            }
            let causes = error.connectionErrors.map { "\(describeConnectError($0.error)) at \($0.target.ipAddress ?? "\($0.target)")" }
            return causes.isEmpty ? "\(error)" : causes.joined(separator: "; ")
        }
        if let error = error as? ChannelError, case .connectTimeout(let amount) = error {
            return "no connection within \(SMTPReplyHandler.describe(amount))"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return String(describing: error)
    }
}
