import Foundation
import Ingest
import LiaisonSchema
import LiaisonStage
import SchemaChecking
import XCTest

final class IngestStageTests: XCTestCase {
    let stage = IngestStage(configuration: IngestConfiguration(), clock: { Corpus.now })

    func output(_ json: String, headers: [RecordHeader] = [], topic: String = "sor.core-banking", stage: IngestStage? = nil) throws -> OutputRecord {
        let (verdict, effect) = Corpus.outcome(stage ?? self.stage, Corpus.record(Array(json.utf8), topic: topic, headers: headers))
        XCTAssertEqual(verdict, "accepted")
        return try XCTUnwrap(effect?.outputs.first)
    }

    func testTheCanonicalEventKeepsUpstreamBytesAndAddsTraceAndPosition() throws {
        let record = try output(Corpus.transaction(data: #","merchant":{"mcc":"5411"}"#, time: "2026-11-02T07:05:00+09:00"))
        let text = String(decoding: record.value, as: UTF8.self)
        XCTAssertTrue(text.contains(#""amount":-120.50"#), text)
        XCTAssertTrue(text.contains(#""balanceAfter":18250.00"#), text)
        XCTAssertTrue(text.contains(#""time":"2026-11-02T07:05:00+09:00""#), text)
        XCTAssertTrue(text.contains(#""merchant":{"mcc":"5411"}"#), text)
        let json = try JSONParser().parse(record.value)
        XCTAssertEqual(json["ingesttime"], .string("2026-11-23T12:00:00.000Z"))
        XCTAssertEqual(json["sourcetopic"], .string("sor.core-banking"))
        XCTAssertEqual(json["sourcepartition"], .number(JSONNumber(2)))
        XCTAssertEqual(json["sourceoffset"], .number(JSONNumber(7)))
        XCTAssertEqual(record.topic, EventV1.topic)
        XCTAssertEqual(record.id, "core-banking|txn-g")
        let traceparent = try XCTUnwrap(json["traceparent"]?.stringValue)
        XCTAssertNotNil(TraceContext.validTraceparent(traceparent))
        XCTAssertEqual(record.headers.first { $0.name == "traceparent" }?.value, Array(traceparent.utf8))
        let event = try EventV1(json: json)
        guard case let .bankingTransactionPosted(payload) = event.data else { return XCTFail("wrong payload") }
        XCTAssertEqual(payload.amount, Decimal(string: "-120.5"))
        XCTAssertEqual(payload.extra["merchant"], .object(JSONObject(["mcc": .string("5411")])))
    }

    func testAnUpstreamTraceContinuesWithANewSpanTheSameEveryTime() throws {
        let upstream = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let json = Corpus.transaction().replacingOccurrences(of: #""subject""#, with: #""traceparent":"\#(upstream)","subject""#)
        let first = try JSONParser().parse(try output(json).value)["traceparent"]?.stringValue
        let second = try JSONParser().parse(try output(json).value)["traceparent"]?.stringValue
        XCTAssertEqual(first, second)
        XCTAssertTrue(first?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") ?? false)
        XCTAssertNotEqual(first, upstream)
        let fromHeader = try output(Corpus.transaction(), headers: [RecordHeader(name: "traceparent", string: upstream)])
        XCTAssertTrue(String(decoding: fromHeader.value, as: UTF8.self).contains("4bf92f3577b34da6a3ce929d0e0e4736"))
    }

    func testAnInvalidUpstreamTraceparentStartsANewTraceInsteadOfRejecting() throws {
        let json = Corpus.transaction().replacingOccurrences(of: #""subject""#, with: #""traceparent":"not-a-trace","subject""#)
        let traceparent = try JSONParser().parse(try output(json).value)["traceparent"]?.stringValue
        XCTAssertNotNil(traceparent.flatMap(TraceContext.validTraceparent))
    }

    func testTheSameSourceAndIDIsTheSameLedgerIDWhereverItArrives() {
        let bytes = Array(Corpus.transaction().utf8)
        let first = Corpus.record(bytes, offset: 1)
        let again = Corpus.record(bytes, offset: 900)
        XCTAssertEqual(stage.inputID(of: first, reading: stage.read(first)), stage.inputID(of: again, reading: stage.read(again)))
        let rejected = Corpus.record(Array("{".utf8), offset: 3)
        XCTAssertEqual(stage.inputID(of: rejected, reading: stage.read(rejected)), "sor.core-banking-2-3")
        XCTAssertNotEqual(NormalizedEvent.ledgerID(source: "a|b", id: "c"), NormalizedEvent.ledgerID(source: "a", id: "b|c"))
    }

    func testBinaryModeReadsAttributesFromHeaders() throws {
        let data = #"{"accountId":"chk-42","accountType":"checking","amount":5,"currency":"USD","balanceAfter":10}"#
        let headers = [
            RecordHeader(name: "ce_specversion", string: "1.0"), RecordHeader(name: "ce_id", string: "bin-1"),
            RecordHeader(name: "ce_source", string: "core-banking"), RecordHeader(name: "ce_type", string: "banking.transaction.posted"),
            RecordHeader(name: "ce_time", string: "2026-11-02T10:15:00Z"), RecordHeader(name: "ce_subject", string: "cust-9"),
            RecordHeader(name: "content-type", string: "application/json"), RecordHeader(name: "ce_branch", string: "b-1"),
        ]
        let record = try output(data, headers: headers)
        let event = try EventV1(bytes: record.value)
        XCTAssertEqual(event.id, "bin-1")
        XCTAssertEqual(event.subject, "cust-9")
        XCTAssertEqual(event.extensions["branch"], .string("b-1"))
        XCTAssertEqual(record.key, Array("cust-9".utf8))

        var missingSubject = headers
        missingSubject.removeAll { $0.name == "ce_subject" }
        XCTAssertEqual(Corpus.outcome(stage, Corpus.record(Array(data.utf8), headers: missingSubject)).0, "missing_subject")
        var badHeader = headers
        badHeader[1] = RecordHeader(name: "ce_id", value: [0xFF, 0xFE])
        XCTAssertEqual(Corpus.outcome(stage, Corpus.record(Array(data.utf8), headers: badHeader)).0, "invalid_utf8")
        XCTAssertEqual(Corpus.outcome(stage, Corpus.record(Array("{nope".utf8), headers: headers)).0, "invalid_json")
        var unknown = headers
        unknown[3] = RecordHeader(name: "ce_type", string: "banking.loan.approved")
        XCTAssertEqual(Corpus.outcome(stage, Corpus.record(Array(data.utf8), headers: unknown)).0, "unknown_type")
    }

    // MARK: Mapped formats

    static let mappedConfiguration: IngestConfiguration = {
        var configuration = IngestConfiguration(
            topics: [
                "sor.crm.cases": TopicBinding(format: .debezium, mapping: "crm-cases"),
                "sor.erp.invoices": TopicBinding(format: .json, mapping: "invoices"),
            ],
            mappings: [
                "crm-cases": RecordMapping(
                    source: "crm", id: "case-{row.case_id}-{op}-{source.ts_ms}", subject: "row.customer_id",
                    events: [
                        EventRule(when: Condition(op: ["c", "r"]), type: "crm.case.opened",
                                  data: ["caseId": FieldSource(path: "row.case_id", as: .string), "topic": FieldSource(path: "row.topic"),
                                         "severity": FieldSource(path: "row.severity")]),
                        EventRule(when: Condition(op: ["u"], field: "row.status", equals: "resolved"), type: "crm.case.resolved",
                                  data: ["caseId": FieldSource(path: "row.case_id", as: .string)]),
                        EventRule(when: Condition(op: ["u"]), ignore: true),
                    ]),
                "invoices": RecordMapping(
                    source: "erp", id: "invoice-{row.invoice}", subject: "row.customer.id", time: "row.paid_at",
                    events: [
                        EventRule(type: "finance.invoice.paid", data: [
                            "invoiceId": FieldSource(path: "row.invoice"), "amount": FieldSource(path: "row.total", as: .decimal),
                            "currency": FieldSource(value: "EUR"),
                        ]),
                    ]),
            ])
        configuration.futureSkewSeconds = 60
        return configuration
    }()

    var mappedStage: IngestStage { IngestStage(configuration: Self.mappedConfiguration, clock: { Corpus.now }) }

    func debezium(op: String, before: String = "null", after: String, wrapped: Bool = false) -> String {
        let payload = #"{"before":\#(before),"after":\#(after),"source":{"ts_ms":1763800000000,"table":"cases","lsn":77},"op":"\#(op)","ts_ms":1763800000100}"#
        return wrapped ? #"{"schema":{"type":"struct"},"payload":\#(payload)}"# : payload
    }

    func testDebeziumChangesBecomeEventsByTheMapping() throws {
        XCTAssertNoThrow(try Self.mappedConfiguration.validate())
        let row = #"{"case_id":17,"customer_id":"cust-3","topic":"card","severity":"high","status":"open"}"#
        let created = try output(debezium(op: "c", after: row), topic: "sor.crm.cases", stage: mappedStage)
        let event = try EventV1(bytes: created.value)
        XCTAssertEqual(event.type, .crmCaseOpened)
        XCTAssertEqual(event.id, "case-17-c-1763800000000")
        XCTAssertEqual(event.source, "crm")
        XCTAssertEqual(event.subject, "cust-3")
        XCTAssertEqual(event.time, Timestamp(epochMilliseconds: 1_763_800_000_000))
        guard case let .crmCase(payload) = event.data else { return XCTFail("wrong payload") }
        XCTAssertEqual(payload.caseId, "17")
        XCTAssertEqual(payload.severity, "high")

        let wrapped = try output(debezium(op: "r", after: row, wrapped: true), topic: "sor.crm.cases", stage: mappedStage)
        XCTAssertEqual(try EventV1(bytes: wrapped.value).type, .crmCaseOpened)

        let resolvedRow = row.replacingOccurrences(of: "open", with: "resolved")
        let resolved = try output(debezium(op: "u", before: row, after: resolvedRow), topic: "sor.crm.cases", stage: mappedStage)
        XCTAssertEqual(try EventV1(bytes: resolved.value).type, .crmCaseResolved)
    }

    func testDebeziumChangesWithoutAnEventEndWithALedgerVerdictOrADeadLetter() {
        let row = #"{"case_id":17,"customer_id":"cust-3","topic":"card","severity":"high","status":"open"}"#
        func outcome(_ json: String, _ key: String? = "17") -> (String, String?) {
            let record = Corpus.record(Array(json.utf8), topic: "sor.crm.cases", key: key)
            let reading = mappedStage.read(record)
            switch reading {
            case let .ignored(reason): return ("ignored", reason)
            case let .rejected(failure): return (failure.code, failure.message)
            case .event: return ("accepted", nil)
            }
        }
        XCTAssertEqual(outcome(debezium(op: "u", before: row, after: row)).0, "ignored")
        XCTAssertEqual(outcome("").0, "ignored")
        XCTAssertEqual(outcome(debezium(op: "d", before: row, after: "null")).0, "unmapped_record")
        XCTAssertEqual(outcome(#"{"before":null,"after":{}}"#).0, "schema_violation")
        XCTAssertEqual(outcome(debezium(op: "c", after: #"{"case_id":1,"topic":"x"}"#)).0, "missing_subject")
        XCTAssertEqual(outcome(debezium(op: "c", after: #"{"customer_id":"c"}"#)).0, "unmapped_record")
        XCTAssertEqual(outcome("[1,2]").0, "schema_violation")
        XCTAssertEqual(outcome("{\"op\":").0, "invalid_json")
    }

    func testPlainJSONIsMappedToo() throws {
        let json = #"{"invoice":"I-9","customer":{"id":"cust-8"},"total":"249.90","paid_at":"2026-11-20T16:00:00+01:00"}"#
        let record = try output(json, topic: "sor.erp.invoices", stage: mappedStage)
        let event = try EventV1(bytes: record.value)
        XCTAssertEqual(event.type, .financeInvoicePaid)
        XCTAssertEqual(event.time.text, "2026-11-20T16:00:00+01:00")
        guard case let .financeInvoicePaid(payload) = event.data else { return XCTFail("wrong payload") }
        XCTAssertEqual(payload.amount, Decimal(string: "249.9"))
        XCTAssertEqual(payload.currency, "EUR")
        XCTAssertTrue(String(decoding: record.value, as: UTF8.self).contains(#""amount":249.90"#))

        let notANumber = json.replacingOccurrences(of: "249.90", with: "lots")
        let rejected = mappedStage.read(Corpus.record(Array(notANumber.utf8), topic: "sor.erp.invoices"))
        guard case let .rejected(failure) = rejected else { return XCTFail("accepted a non-number") }
        XCTAssertEqual(failure.code, "schema_violation")
        XCTAssertTrue(failure.message.contains("data.amount"), failure.message)
        XCTAssertEqual(Corpus.outcome(mappedStage, Corpus.record([], topic: "sor.erp.invoices")).0, "empty_record")
    }

    func testABadMappingIsRefusedBeforeTheFirstRecord() {
        func error(_ mapping: RecordMapping, binding: TopicBinding = TopicBinding(format: .json, mapping: "m")) -> String? {
            let configuration = IngestConfiguration(topics: ["t": binding], mappings: ["m": mapping])
            do {
                try configuration.validate()
                return nil
            } catch {
                return error.message
            }
        }
        let rule = EventRule(type: "crm.case.opened")
        XCTAssertNil(error(RecordMapping(source: "s", id: "{row.id}", subject: "row.c", events: [rule])))
        XCTAssertEqual(error(RecordMapping(source: "s", id: "{row.id", subject: "row.c", events: [rule])),
                       "mapping m: `id` template '{row.id' has an unbalanced or empty {path}")
        XCTAssertEqual(error(RecordMapping(source: "s", id: "x", subject: "c", events: [EventRule(type: "crm.case.reopened")])),
                       "mapping m: events[0]: 'crm.case.reopened' is not a record type Liaison knows")
        XCTAssertEqual(error(RecordMapping(source: "s", id: "x", subject: "c", events: [EventRule(when: Condition(op: ["x"]), type: "crm.case.opened")])),
                       "mapping m: events[0]: op 'x' is not one of c, u, d, r, t (or create, update, delete, read, truncate)")
        XCTAssertEqual(error(RecordMapping(source: "s", id: "x", subject: "c", events: [rule]), binding: TopicBinding(format: .json, mapping: "other")),
                       "topic t: no mapping named 'other' under `mappings`")
        XCTAssertEqual(error(RecordMapping(source: "s", id: "x", subject: "c", events: [rule]), binding: TopicBinding(format: .debezium)),
                       "topic t: format debezium needs a `mapping`")
    }
}

final class IngestConfigurationTests: XCTestCase {
    func testTheExampleFileInDeployIsValid() throws {
        let url = SchemaChecker.repositoryRoot.appendingPathComponent("deploy/ingest.example.yaml")
        let configuration = try IngestConfiguration(yaml: String(contentsOf: url, encoding: .utf8))
        XCTAssertEqual(configuration.binding(for: "sor.crm.cases"), TopicBinding(format: .debezium, mapping: "crm-cases"))
        XCTAssertEqual(configuration.binding(for: "sor.anything-else"), TopicBinding(format: .cloudevents))
        XCTAssertEqual(configuration.mappings["erp-invoices"]?.events.first?.data?["amount"], FieldSource(path: "row.total", as: .decimal))
        XCTAssertEqual(configuration.futureSkewSeconds, 300)
    }

    func testYAMLErrorsNameTheKey() {
        func error(_ yaml: String) -> String? {
            do {
                _ = try IngestConfiguration(yaml: yaml)
                return nil
            } catch {
                return error.message
            }
        }
        XCTAssertNil(error("topics: {}"))
        XCTAssertEqual(error("topics: {t: {format: avro}}")?.hasPrefix("topics.t.format:"), true)
        XCTAssertEqual(error("mappings: {m: {source: s, subject: x, events: [{type: crm.case.opened}]}}"), "mappings.m.id is required")
        XCTAssertEqual(error("max-depth: 1"), "max-depth must be between 2 and 512")
    }
}
