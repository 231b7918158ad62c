import Foundation
import LiaisonSchema
import Notifier
import SchemaChecking
import XCTest

/// The repository's template folder and payloads like the default pack's rules produce.
enum TemplateFixtures {
    static var templatesDirectory: URL {
        SchemaChecker.repositoryRoot.appendingPathComponent("schemas/templates")
    }

    static func defaultCatalog() throws -> TemplateCatalog {
        do {
            return try TemplateCatalog(directory: templatesDirectory)
        } catch {
            XCTFail("schemas/templates does not load: \(error)")
            throw error
        }
    }

    /// Typical values for each template of the default pack, as its rule's payload would hold them.
    static let typicalPayloads: [String: String] = [
        "offer.cd-30-day": #"{"amount": 12000, "currency": "USD", "termDays": 30}"#,
        "service.check-deposit-received":
            #"{"depositId": "dep-20261102-0042", "accountId": "chk-42", "amount": 1250.00, "currency": "USD"}"#,
        "agent.mortgage-advisor-open-house":
            #"{"placeId": "oh-1187", "lat": 47.3769, "lon": 8.5417, "mortgageResearchedAt": "2026-10-20T18:30:00Z"}"#,
        "offer.mortgage-advisor-nearby": #"{"placeId": "oh-1187"}"#,
        "service.checkin-reminder":
            #"{"bookingId": "BK7Q2M", "flight": "LH716", "origin": "FRA", "destination": "HND", "departure": "2026-11-03T07:05:00+09:00"}"#,
        "offer.feedback-discount": #"{"discountPercent": 10, "feedbackChannel": "survey"}"#,
        "agent.feedback-callback":
            #"{"tier": "gold", "feedbackChannel": "review", "text": "Waited 40 minutes on the phone and nobody could help.", "rating": 1, "sentiment": -0.62}"#,
        "agent.churn-warning":
            #"{"churnRisk": 0.78, "sentiment": -0.55, "openCases": 2, "oldestOpenCaseDays": 19, "activityZScore": -2.4, "tier": "platinum"}"#,
        "offer.retention": #"{"tier": "gold"}"#,
        "behaviour.changed": #"{"spendZScore": -3.42, "activityZScore": -1.1}"#,
        "crm.invoice-paid":
            #"{"invoiceId": "inv-2026-0042", "orderId": "ord-7781", "amount": 349.90, "currency": "EUR", "paidAt": "2026-11-02T10:15:00Z"}"#,
        "service.case-resolved": #"{"caseId": "case-5521", "topic": "card replacement"}"#,
    ]

    static func object(_ json: String) throws -> JSONObject {
        let value = try JSONParser().parse(Array(json.utf8))
        return try XCTUnwrap(value.objectValue, "not a JSON object: \(json)")
    }

    /// The values the notifier passes: the payload, the customer id and the recipient's name.
    static func values(for template: String, name: String? = "Alex Morgan") throws -> JSONObject {
        let payload = try object(try XCTUnwrap(typicalPayloads[template], "no typical payload for \(template)"))
        let createdAt = try XCTUnwrap(Timestamp("2026-11-02T10:15:00Z"))
        let decision = DecisionRecordV1(ruleId: "rule", packVersion: "test", inputIds: [], inputPositions: [], reads: JSONObject(), outcome: .fired)
        var action = ActionV1(
            id: "action-1", kind: .engage, customerId: "cust-42", ruleId: "rule", template: template, channelClass: .service,
            priority: .normal, createdAt: createdAt, payload: payload, decision: decision
        )
        var recipient = RecipientV1()
        recipient.name = name
        action.recipient = recipient
        return TemplateCatalog.values(for: action)
    }

    /// The request that the fallback chain answers with exactly this variant.
    static func render(_ catalog: TemplateCatalog, _ variant: TemplateVariant, values: JSONObject) throws -> RenderedMessage {
        let generation: String? =
            switch variant.segment {
            case .younger?: "gen-z"
            case .older?: "boomer"
            case let band?: band.rawValue
            case nil: nil
            }
        return try catalog.render(
            template: variant.template, channel: variant.channel, locale: variant.locale,
            segment: SegmentV1(tier: .standard, generation: generation), device: variant.device, values: values
        )
    }

    /// Each template of the default pack with its payload's member names, read from the pack's
    /// text (the notifier's tests do not link the rules module).
    static func defaultPackPayloadNames() throws -> [String: Set<String>] {
        let pack = try String(contentsOf: SchemaChecker.repositoryRoot.appendingPathComponent("schemas/rules/default.yaml"), encoding: .utf8)
        var names: [String: Set<String>] = [:]
        var template: String?
        var payloadIndent: Int?
        for line in pack.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if let open = payloadIndent {
                if indent > open, let colon = content.firstIndex(of: ":") {
                    if let template { names[template, default: []].insert(String(content[..<colon])) }
                    continue
                }
                payloadIndent = nil
            }
            if content.hasPrefix("template: ") {
                let name = String(content.dropFirst("template: ".count))
                template = name
                if names[name] == nil { names[name] = [] }
            } else if content == "payload:" {
                payloadIndent = indent
            }
        }
        return names
    }

    /// Files written to a fresh temporary folder, which the caller removes.
    static func folder(with files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("liaison-templates-\(UUID().uuidString)")
        for (path, contents) in files {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: file, atomically: true, encoding: .utf8)
        }
        return root
    }
}
