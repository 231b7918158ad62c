import CRdKafka
import Foundation
import LiaisonStage
import Synchronization

/// The idempotent producer every stage writes through. Delivery reports are collected per
/// batch, so the runtime can checkpoint only what the brokers acknowledged.
public final class KafkaProducer: @unchecked Sendable {
    private let handle: OpaquePointer
    private let polling = RunFlag()
    private let pollerDone = DispatchSemaphore(value: 0)

    /// Settings the processing guarantees depend on; configuration cannot weaken them.
    public static let requiredProperties = ["enable.idempotence": "true", "acks": "all"]

    public init(properties: KafkaProperties) throws(KafkaError) {
        let conf = try properties.withDefaults(["linger.ms": "5", "compression.type": "lz4"])
            .merging(Self.requiredProperties).makeConf()
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let batch = Unmanaged<DeliveryBatch>.fromOpaque(opaque).takeRetainedValue()
            batch.report(message.pointee.err)
        }
        handle = try makeHandle(RD_KAFKA_PRODUCER, conf: conf, role: "producer")
        let handle = SharedHandle(pointer: self.handle)
        let polling = self.polling
        let pollerDone = self.pollerDone
        let poller = Thread {
            while polling.isSet {
                rd_kafka_poll(handle.pointer, 50)
            }
            pollerDone.signal()
        }
        poller.name = "kafka-producer-poll"
        poller.start()
    }

    /// Produces `records` and blocks until the brokers acknowledged every one of them.
    /// Throws the first delivery failure; records that did get through stay written.
    public func sendAndWait(_ records: [OutputRecord]) throws(KafkaError) {
        if let failure = try send(records).wait() { throw failure }
    }

    /// Produces `records` and returns at once; the returned delivery tells when they are acknowledged.
    @discardableResult
    public func send(_ records: [OutputRecord]) throws(KafkaError) -> PendingDelivery {
        let batch = DeliveryBatch(count: records.count)
        try enqueue(records, batch: batch)
        return PendingDelivery(batch: batch)
    }

    /// Waits until every queued record is delivered or the timeout passes.
    public func flush(timeout: Duration = .seconds(30)) throws(KafkaError) {
        let err = rd_kafka_flush(handle, Int32(timeout.components.seconds * 1000))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(err, context: "records still undelivered after \(timeout)")
        }
    }

    deinit {
        rd_kafka_flush(handle, 10_000)
        polling.clear()
        pollerDone.wait()
        rd_kafka_destroy(handle)
    }

    private func enqueue(_ records: [OutputRecord], batch: DeliveryBatch) throws(KafkaError) {
        for (index, record) in records.enumerated() {
            do {
                try produce(record, batch: batch)
            } catch {
                batch.abandon(records.count - index, error: error)
                throw error
            }
        }
    }

    private func produce(_ record: OutputRecord, batch: DeliveryBatch) throws(KafkaError) {
        while true {
            let headers = rd_kafka_headers_new(record.headers.count + 1)!
            for header in record.headers where header.name != recordIDHeader {
                header.value.withUnsafeBytes { value in
                    _ = rd_kafka_header_add(headers, header.name, -1, value.baseAddress, value.count)
                }
            }
            rd_kafka_header_add(headers, recordIDHeader, -1, record.id, record.id.utf8.count)
            let opaque = Unmanaged.passRetained(batch).toOpaque()
            let error: OpaquePointer? = record.topic.withCString { topic in
                record.value.withUnsafeBytes { value in
                    withOptionalBytes(record.key) { key in
                        var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                        fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        fields[0].u.cstr = topic
                        fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                        fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                        fields[1].u.mem.size = value.count
                        fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        fields[2].u.i = RD_KAFKA_MSG_F_COPY
                        fields[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                        fields[3].u.ptr = opaque
                        fields[4].vtype = RD_KAFKA_VTYPE_HEADERS
                        fields[4].u.headers = headers
                        var count = 5
                        if let key {
                            fields[5].vtype = RD_KAFKA_VTYPE_KEY
                            fields[5].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            fields[5].u.mem.size = key.count
                            count = 6
                        }
                        return rd_kafka_produceva(handle, fields, count)
                    }
                }
            }
            guard let error else { return }
            Unmanaged<DeliveryBatch>.fromOpaque(opaque).release()
            rd_kafka_headers_destroy(headers)
            if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_error_destroy(error)
                Thread.sleep(forTimeInterval: 0.001)
                continue
            }
            throw KafkaError(consuming: error, context: "cannot produce record \(record.id) to \(record.topic)")
        }
    }
}

/// Tells the polling thread to keep going.
private final class RunFlag: Sendable {
    private let flag = Atomic<Bool>(true)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func clear() { flag.store(false, ordering: .relaxed) }
}

/// librdkafka handles are thread-safe; this lets one cross into the polling thread.
private struct SharedHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// Records handed to the producer whose delivery reports are still coming in.
public struct PendingDelivery: Sendable {
    fileprivate let batch: DeliveryBatch

    /// Blocks until every record is acknowledged or failed; returns the first failure.
    public func wait() -> KafkaError? {
        batch.wait()
    }
}

/// Counts the delivery reports of one batch and wakes whoever waits for the last one.
final class DeliveryBatch: @unchecked Sendable {
    private let condition = NSCondition()
    private var remaining: Int
    private var failure: KafkaError?

    init(count: Int) {
        remaining = count
    }

    func report(_ err: rd_kafka_resp_err_t) {
        condition.lock()
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, failure == nil {
            failure = KafkaError(err, context: "delivery failed")
        }
        remaining -= 1
        finishIfDone()
    }

    /// Accounts for records that were never enqueued because producing failed part-way.
    func abandon(_ count: Int, error: KafkaError) {
        condition.lock()
        if failure == nil { failure = error }
        remaining -= count
        finishIfDone()
    }

    /// Called with the lock held; releases it.
    private func finishIfDone() {
        if remaining == 0 { condition.broadcast() }
        condition.unlock()
    }

    func wait() -> KafkaError? {
        condition.lock()
        defer { condition.unlock() }
        while remaining > 0 { condition.wait() }
        return failure
    }
}
