import Foundation
import LiaisonSchema
import LiaisonStage
import XCTest

/// The records the fleet tests send, and what the sinks must hold afterwards. Ten records per
/// customer, in the order an upstream sends them: the profile first; a mobile check deposit for
/// every fifth customer (a service message by push, SMS or email, as the contact allows); a
/// paid invoice for every tenth (a CRM update by webhook); and transactions that ask for
/// nothing. One customer in a hundred has a broken record among them and another one in a
/// hundred a transaction sent twice.
struct FleetDataSet {
    let customers: Int

    var records: Int { customers * 10 }
    var broken: Int { (0..<customers).filter { $0 % 100 == 37 }.count }
    var repeated: Int { (0..<customers).filter { $0 % 100 == 73 }.count }
    var accepted: Int { records - broken - repeated }
    var actions: Int { (0..<customers).filter(Self.deposits).count + (0..<customers).filter(Self.paysInvoice).count }

    /// The progress at which every record is through the fleet.
    var throughTheFleet: FleetProgress {
        FleetProgress(judged: accepted + broken, enriched: accepted, decided: accepted, sent: actions)
    }

    func upstreamRecords(for fleet: TestFleet) -> [OutputRecord] {
        var records: [OutputRecord] = []
        records.reserveCapacity(self.records)
        for index in 0..<customers {
            let customer = "cust-\(index)"
            var own = [fleet.upstreamEvent("\(index)-profile", .customerProfileUpdated, customer: customer, """
                {"name":"Person \(index)","locale":"en","timeZone":"UTC","tier":"standard","contact":\(Self.contact(index))}
                """)]
            if Self.deposits(index) {
                own.append(fleet.upstreamEvent("\(index)-deposit", .bankingCheckDeposited, customer: customer, """
                    {"accountId":"chk-\(index)","depositId":"dep-\(index)","amount":120.50,"currency":"EUR","via":"mobile"}
                    """))
            }
            if Self.paysInvoice(index) {
                own.append(fleet.upstreamEvent("\(index)-invoice", .financeInvoicePaid, customer: customer, """
                    {"invoiceId":"inv-\(index)","orderId":"ord-\(index)","amount":99.00,"currency":"EUR"}
                    """))
            }
            var transaction = 0
            while own.count < 10 {
                var record = fleet.upstreamEvent("\(index)-txn-\(transaction)", .bankingTransactionPosted, customer: customer, """
                    {"accountId":"chk-\(index)","accountType":"checking","amount":-12.00,"currency":"EUR","balanceAfter":800.00}
                    """)
                if index % 100 == 37, transaction == 0 {
                    record.value = Array(#"{"specversion":"1.0","id":"broken""#.utf8)
                } else if index % 100 == 73, transaction == 1 {
                    record = own[own.count - 1]
                }
                own.append(record)
                transaction += 1
            }
            records += own
        }
        return records
    }

    private static func contact(_ index: Int) -> String {
        switch index % 3 {
        case 0: #"{"email":"\#(email(index))","phone":"\#(phone(index))","pushToken":"push-\#(index)","device":"phone"}"#
        case 1: #"{"email":"\#(email(index))","phone":"\#(phone(index))"}"#
        default: #"{"email":"\#(email(index))"}"#
        }
    }

    private static func email(_ index: Int) -> String { "p\(index)@example.com" }
    private static func phone(_ index: Int) -> String { "+49151\(10_000_000 + index)" }
    private static func deposits(_ index: Int) -> Bool { index % 5 == 0 }
    private static func paysInvoice(_ index: Int) -> Bool { index % 10 == 1 }

    /// Every depositing customer got exactly one service message, on one of their own channels,
    /// and every paying customer exactly one CRM webhook; nobody else got anything. Messages
    /// are told apart by idempotency key and Message-ID, as the providers keep them.
    func assertSinksHoldOneMessagePerAction(_ fleet: TestFleet, file: StaticString = #filePath, line: UInt = #line) throws {
        var byCustomer: [Int: [String]] = [:]
        var unknown: [String] = []
        var keys = Set<String>()
        for request in fleet.sink.requests where (200..<300).contains(request.status ?? 0) {
            guard let key = request.idempotencyKey, keys.insert("\(request.path) \(key)").inserted else { continue }
            let body = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], request.bodyText)
            let customer: Int? = switch request.path {
            case "/push": (body["token"] as? String).flatMap { Int($0.dropFirst("push-".count)) }
            case "/sms": (body["to"] as? String).flatMap { Int($0.dropFirst("+49151".count)) }.map { $0 - 10_000_000 }
            default: Self.customer(inWebhook: request.bodyText)
            }
            if let customer { byCustomer[customer, default: []].append(request.path) } else { unknown.append(request.bodyText) }
        }
        var messageIDs = Set<String>()
        for mail in fleet.mail.messages {
            guard messageIDs.insert(mail.messageID ?? UUID().uuidString).inserted else { continue }
            let address = mail.recipients.first ?? ""
            if address.hasPrefix("p"), address.hasSuffix("@example.com"), let customer = Int(address.dropFirst().dropLast("@example.com".count)) {
                byCustomer[customer, default: []].append("email")
            } else {
                unknown.append(address)
            }
        }
        XCTAssertEqual(unknown, [], "messages to nobody the test knows", file: file, line: line)
        var wrong: [String] = []
        for index in 0..<customers {
            let got = byCustomer[index, default: []]
            let service = got.filter { $0 != "/webhook" }
            let webhooks = got.count - service.count
            let reachable = ["/push", "/sms", "email"].suffix(3 - index % 3)
            if service.count != (Self.deposits(index) ? 1 : 0) || !service.allSatisfy(reachable.contains)
                || webhooks != (Self.paysInvoice(index) ? 1 : 0) {
                wrong.append("cust-\(index): \(got)")
            }
        }
        XCTAssertEqual(wrong, [], "customers who did not get exactly their messages (\(wrong.count))", file: file, line: line)
    }

    /// The customer a CRM webhook is about: its body names the paid invoice, `inv-<index>`.
    private static func customer(inWebhook body: String) -> Int? {
        guard let range = body.range(of: #"inv-[0-9]+"#, options: .regularExpression) else { return nil }
        return Int(body[range].dropFirst("inv-".count))
    }
}
