import AsyncHTTPClient
import Foundation
import GRDB
import Ingest
import LiaisonAudit
import LiaisonKafka
import LiaisonSchema
import LiaisonSinks
import LiaisonStage

/// Gathers what `liaison audit` reconciles: topics read from the brokers to their ends, ledgers,
/// checkpoints and delivery rows from the partition files, and the sinks' report over HTTP.
struct AuditSources {
    let files: FleetFiles
    let properties: KafkaProperties

    /// Every partition of the upstream topics as the broker holds it, with ingest's rows and
    /// checkpoint. A record without a row at its offset also gets the id ingest would give it.
    func upstream(_ topics: [String], ingestRows: [LedgerRow], stage: IngestStage) throws -> [UpstreamPartition] {
        let checkpoints = try files.checkpoints(of: "ingest")
        let rowsByPartition = Dictionary(grouping: ingestRows) { TopicPartition(topic: $0.position.topic, partition: $0.position.partition) }
        let judged = rowsByPartition.mapValues { Set($0.map(\.position.offset)) }
        var partitions: [UpstreamPartition] = []
        for topic in topics {
            var records: [TopicPartition: [UpstreamRecord]] = [:]
            let range = try readAll(topic) { record in
                let partition = TopicPartition(topic: record.position.topic, partition: record.position.partition)
                let ledgered = judged[partition]?.contains(record.position.offset) ?? false
                records[partition, default: []].append(UpstreamRecord(
                    offset: record.position.offset, timestampMs: record.timestampMs,
                    ingestID: ledgered ? nil : stage.inputID(of: record, reading: stage.read(record))))
            }
            for partition in range.starts.keys.sorted(by: { $0.partition < $1.partition }) {
                partitions.append(UpstreamPartition(
                    topic: topic, partition: partition.partition, records: records[partition] ?? [], ledger: rowsByPartition[partition] ?? [],
                    checkpoint: checkpoints[topic]?[partition.partition]))
            }
        }
        return partitions
    }

    /// The actions and receipts on their topics, and what the notifier's files hold about them.
    func receipts(actionsTopic: String, deliveriesTopic: String) throws -> ReceiptInputs {
        var inputs = ReceiptInputs()
        try readAll(actionsTopic) { record in
            do {
                let action = try JSONValueDecoder().decode(ActionV1.self, from: record.value)
                inputs.actions.append(PositionedAction(position: record.position, action: action))
            } catch {
                inputs.unreadableActions.append(UnreadableRecord(position: record.position, problem: "not a liaison.actions.v1 action: \(error)"))
            }
        }
        try readAll(deliveriesTopic) { record in
            do {
                let receipt = try JSONValueDecoder().decode(DeliveryReceiptV1.self, from: record.value)
                inputs.receipts.append(PositionedReceipt(position: record.position, receipt: receipt, bytes: record.value))
            } catch {
                inputs.unreadableReceipts.append(UnreadableRecord(position: record.position, problem: "not a liaison.deliveries.v1 receipt: \(error)"))
            }
        }
        inputs.notifierCheckpoints = try files.checkpoints(of: "notifier")[actionsTopic] ?? [:]
        inputs.heldDeliveries = try files.heldDeliveries()
        inputs.notifierLedger = try files.ledgerRows(of: "notifier")
        return inputs
    }

    /// Every record of a topic, up to the partitions' ends as the fetches report them.
    @discardableResult
    private func readAll(_ topic: String, _ body: (InputRecord) throws -> Void) throws -> TopicRange {
        do {
            return try TopicRange.readWhole(topic, properties: properties, body)
        } catch let error as KafkaError {
            throw CommandFailure("cannot read \(topic): \(error); check the topic name and --brokers")
        }
    }

    /// What the sinks took, from `GET /sinks/report` on `liaison sinks`' HTTP port.
    func sinkReport(at base: String) async throws -> SinkReport {
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + SinkReport.path
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        } catch {
            throw CommandFailure("cannot reach the sinks at \(url): \(error); is `liaison sinks` running there?")
        }
        guard response.status == .ok else {
            throw CommandFailure("\(url) answered \(response.status.code): --sinks must point at `liaison sinks`' HTTP port")
        }
        do {
            let body = try await response.body.collect(upTo: 256 << 20)
            return try JSONDecoder().decode(SinkReport.self, from: Data(body.readableBytesView))
        } catch {
            throw CommandFailure("\(url) did not answer with a sink report: \(error)")
        }
    }
}
