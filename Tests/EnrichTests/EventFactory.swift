import Foundation
import LiaisonSchema
import LiaisonStage

/// Builds events the way ingest writes them, on days counted from a fixed "today", so each
/// test can say "40 days ago" and compute its expected numbers by hand.
struct EventFactory {
    /// 2026-06-30, in days since 1970-01-01.
    static let today = 20_634
    let customer: String
    private var sequence = 0

    init(customer: String = "c-1") {
        self.customer = customer
    }

    static func time(day: Int, hour: Int = 12) -> Timestamp {
        Timestamp(epochMilliseconds: Int64(today + day) * 86_400_000 + Int64(hour) * 3_600_000)
    }

    mutating func event(_ type: EventType, day: Int, hour: Int = 12, _ data: String = "{}") -> EventV1 {
        sequence += 1
        let json = """
            {"specversion":"1.0","id":"e-\(sequence)","source":"test","type":"\(type.rawValue)",\
            "time":"\(Self.time(day: day, hour: hour).text)","subject":"\(customer)","datacontenttype":"application/json",\
            "traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","ingesttime":"\(Self.time(day: day, hour: hour).text)",\
            "sourcetopic":"sor.test","sourcepartition":0,"sourceoffset":\(sequence),"data":\(data)}
            """
        return try! EventV1(bytes: Array(json.utf8))
    }

    mutating func debit(_ amount: String, day: Int, account: String = "checking", balance: String = "1000.00", hour: Int = 12) -> EventV1 {
        event(.bankingTransactionPosted, day: day, hour: hour, """
            {"accountId":"acc-\(account)","accountType":"\(account)","amount":-\(amount),"currency":"EUR","balanceAfter":\(balance)}
            """)
    }

    /// The record ingest would have produced for `event`, keyed by its customer.
    func record(_ event: EventV1, offset: Int64 = 0, key: String? = nil) -> InputRecord {
        InputRecord(
            position: RecordPosition(topic: EventV1.topic, partition: 0, offset: offset),
            key: Array((key ?? event.subject).utf8), value: try! event.bytes())
    }
}
